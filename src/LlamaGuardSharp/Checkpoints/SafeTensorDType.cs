namespace LlamaGuardSharp.Checkpoints;

/// <summary>The element types of the safetensors format.</summary>
internal enum SafeTensorDType
{
    BOOL,
    U8,
    I8,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    I64,
    U64,
    F64,
}

internal static class SafeTensorDTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(SafeTensorDType type) => type switch
    {
        SafeTensorDType.BOOL or SafeTensorDType.U8 or SafeTensorDType.I8 => 1,
        SafeTensorDType.I16 or SafeTensorDType.U16 or SafeTensorDType.F16 or SafeTensorDType.BF16 => 2,
        SafeTensorDType.I32 or SafeTensorDType.U32 or SafeTensorDType.F32 => 4,
        SafeTensorDType.I64 or SafeTensorDType.U64 or SafeTensorDType.F64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Parses the header spelling ("BF16", "F32"…); false for anything else.</summary>
    public static bool TryParse(string text, out SafeTensorDType type) =>
        Enum.TryParse(text, ignoreCase: false, out type) && Enum.IsDefined(type) && text == type.ToString();
}
