namespace LlamaGuardSharp.Compute;

/// <summary>Element type of a weight matrix as it lies in memory (usually a read-only memory map).</summary>
internal enum WeightType
{
    F32,
    BF16,
    F16,

    /// <summary>
    /// Per-output-channel symmetric int8 in the VNNI panel layout of <see cref="Int8Weights"/> (the int8 compute path);
    /// the matrix carries its fp32 scales and per-row weight sums.
    /// </summary>
    I8Vnni,
}
