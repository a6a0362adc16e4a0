namespace LlamaGuardSharp.Inference;

/// <summary>The arithmetic of a model's linear layers (<see cref="GuardModelOptions.Precision"/>).</summary>
public enum ComputePrecision
{
    /// <summary>Float32 arithmetic over the checkpoint's weights (the default; bit-for-bit what the goldens check).</summary>
    Fp32,

    /// <summary>
    /// Int8 weights from the int8 sidecar (<c>llamaguard quantize</c>) and per-row int8 activations on AVX-VNNI, dequantized
    /// to float32 after each product. Opt-in: its drift from fp32 is small but not zero (docs/int8.md).
    /// </summary>
    Int8,
}
