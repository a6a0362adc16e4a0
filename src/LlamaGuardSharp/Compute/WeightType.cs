namespace LlamaGuardSharp.Compute;

/// <summary>Element type of a weight matrix as it lies in memory (usually a read-only memory map).</summary>
internal enum WeightType
{
    F32,
    BF16,
    F16,
}
