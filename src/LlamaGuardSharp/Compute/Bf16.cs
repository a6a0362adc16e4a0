using System.Runtime.CompilerServices;

namespace LlamaGuardSharp.Compute;

/// <summary>bfloat16 ↔ float32 conversions. bf16 is the upper 16 bits of an IEEE float32, so widening is exact.</summary>
internal static class Bf16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Round-to-nearest-even narrowing, as torch's <c>.to(torch.bfloat16)</c> does (NaN stays NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromSingle(float value)
    {
        uint bits = (uint)BitConverter.SingleToInt32Bits(value);
        if ((bits & 0x7FFF_FFFFu) > 0x7F80_0000u)
        {
            return (ushort)((bits >> 16) | 0x0040u); // quiet NaN
        }
        uint rounding = 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)((bits + rounding) >> 16);
    }

    /// <summary>Widens <paramref name="source"/> into <paramref name="destination"/> (same length).</summary>
    public static void ToSingle(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("Destination is shorter than source.", nameof(destination));
        }
        // Widening is a 16-bit left shift of each element; the JIT vectorises this loop well enough
        // for the non-hot callers that use it (the GEMM packs its own panels).
        for (int i = 0; i < source.Length; i++)
        {
            destination[i] = BitConverter.Int32BitsToSingle(source[i] << 16);
        }
    }
}
