using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Matrix multiply with the weight transposed, the shape of every <c>nn.Linear</c>:
/// C[m, n] = Σ_k A[m, k] · W[n, k] (+ bias[n]). A and C are float32 row-major; W is bf16/f16/f32 in place.
/// Accumulation is float32. Results are bit-identical for every <see cref="ComputeContext.Threads"/> value.
/// </summary>
public static class Gemm
{
    /// <summary>
    /// From this many rows of A on, the packed, register-blocked kernel beats streaming dot products (threshold-probe at
    /// K = N = 4096: row-dot 8.6 vs packed 9.8 ms at M = 8, 12.8 vs 9.9 ms at M = 12).
    /// </summary>
    public const int PackedMinRows = 10;

    /// <summary>
    /// C[M, N] = A[M, K] · Wᵀ (+ bias). <paramref name="a"/> holds M rows of K = W.Cols floats,
    /// <paramref name="c"/> receives M rows of N = W.Rows floats. <paramref name="bias"/> may be empty.
    /// </summary>
    public static unsafe void MatMulTransposed(ReadOnlySpan<float> a, int m, WeightMatrix w, ReadOnlySpan<float> bias, Span<float> c, ComputeContext context)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(context);
        int k = w.Cols, n = w.Rows;
        CheckShapes(a.Length, m, k, n, bias.Length, c.Length);
        if (m == 0)
        {
            return;
        }
        if (!Avx512F.IsSupported || !Vector512.IsHardwareAccelerated)
        {
            // Portable fallback (no AVX-512): correct but slow; the model targets AVX-512 hosts.
            GemmReference.MatMulTransposed(a, m, w, bias, c);
            return;
        }
        fixed (float* pa = a, pb = bias, pc = c)
        {
            float* biasPtr = bias.IsEmpty ? null : pb;
            if (m < PackedMinRows)
            {
                GemmRowDot.Run(pa, m, w, biasPtr, pc, context);
            }
            else
            {
                GemmPacked.Run(pa, m, w, biasPtr, pc, context);
            }
        }
    }

    internal static void CheckShapes(int aLength, int m, int k, int n, int biasLength, int cLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        if ((long)m * k > aLength)
        {
            throw new ArgumentException($"A holds {aLength} values, fewer than M×K = {m}×{k}.");
        }
        if ((long)m * n > cLength)
        {
            throw new ArgumentException($"C holds {cLength} values, fewer than M×N = {m}×{n}.");
        }
        if (biasLength != 0 && biasLength != n)
        {
            throw new ArgumentException($"Bias has {biasLength} values, expected 0 or N = {n}.");
        }
    }
}
