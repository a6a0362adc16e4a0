namespace LlamaGuardSharp.Checkpoints;

/// <summary>One tensor's entry in a safetensors header. <see cref="DataOffset"/> is relative to the start of the file.</summary>
internal sealed record TensorInfo(string Name, SafeTensorDType DType, long[] Shape, long DataOffset, long ByteLength)
{
    /// <summary>Number of elements (1 for a scalar with shape []).</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
