using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Matrix multiply with the weight transposed, the shape of every <c>nn.Linear</c>:
/// C[m, n] = Σ_k A[m, k] · W[n, k] (+ bias[n]). A and C are float32 row-major; W is bf16/f16/f32 in place.
/// Accumulation is float32. Results are bit-identical for every <see cref="ComputeContext.Threads"/> value.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>
    /// From this many rows of A on, the packed, register-blocked kernel beats streaming dot products (threshold-probe at
    /// K = N = 4096: row-dot 8.6 vs packed 9.8 ms at M = 8, 12.8 vs 9.9 ms at M = 12).
    /// </summary>
    public const int PackedMinRows = 10;

    /// <summary>
    /// C[M, N] = A[M, K] · Wᵀ (+ bias). <paramref name="a"/> holds M rows of K = W.Cols floats,
    /// <paramref name="c"/> receives M rows of N = W.Rows floats. <paramref name="bias"/> may be empty.
    /// With <paramref name="batchInvariant"/>, a row's result does not depend on M either (the packed kernel even below
    /// <see cref="PackedMinRows"/>, whose dot products sum in another order): a prompt run in two parts gives the bits of
    /// the prompt run at once.
    /// </summary>
    public static void MatMulTransposed(ReadOnlySpan<float> a, int m, WeightMatrix w, ReadOnlySpan<float> bias, Span<float> c, ComputeContext context,
        bool batchInvariant = false)
    {
        var (k, n) = CheckArguments(a.Length, m, w, bias.Length, c.Length, context);
        if (m == 0)
        {
            return;
        }
        if (w.Type == WeightType.I8Vnni)
        {
            long started = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
            fixed (float* pa = a, pb = bias, pc = c)
            {
                GemmInt8.Run(pa, m, w, bias.IsEmpty ? null : pb, pc, context);
            }
            context.Profile?.Record("gemm-int8", $"M={m} N={n} K={k}", 2.0 * m * n * k, started);
            return;
        }
        if (!Avx512F.IsSupported || !Vector512.IsHardwareAccelerated)
        {
            // Portable fallback (no AVX-512): correct but slow; the model targets AVX-512 hosts.
            GemmReference.MatMulTransposed(a, m, w, bias, c);
            return;
        }
        long start = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
        fixed (float* pa = a, pb = bias, pc = c)
        {
            float* biasPtr = bias.IsEmpty ? null : pb;
            if (m < PackedMinRows && !batchInvariant)
            {
                GemmRowDot.Run(pa, m, w, biasPtr, pc, context);
            }
            else
            {
                GemmPacked.Run(pa, m, w, biasPtr, pc, context);
            }
        }
        context.Profile?.Record("gemm", $"M={m} N={n} K={k}", 2.0 * m * n * k, start);
    }

    /// <summary>
    /// C = GELU(A)·Wᵀ (+ bias) with the exact (erf) GELU of <see cref="Gelu"/>, bit-identical to applying
    /// <see cref="Gelu.Apply(ReadOnlySpan{float}, Span{float}, ComputeContext)"/> to A first; <paramref name="a"/> is not
    /// modified. The packed kernel applies the activation while it packs A (vision fc2: saves a read and a write of
    /// the 6432 × 5120 activations per layer); other cases (few rows, K not a multiple of 16, no AVX-512) apply it to a
    /// scratch copy.
    /// </summary>
    public static void MatMulTransposedGelu(ReadOnlySpan<float> a, int m, WeightMatrix w, ReadOnlySpan<float> bias, Span<float> c, ComputeContext context)
    {
        var (k, n) = CheckArguments(a.Length, m, w, bias.Length, c.Length, context);
        if (m == 0)
        {
            return;
        }
        if (w.Type == WeightType.I8Vnni)
        {
            // The int8 path quantizes A anyway: GELU row by row while quantizing.
            long started = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
            fixed (float* pa = a, pb = bias, pc = c)
            {
                GemmInt8.Run(pa, m, [new GemmTarget(w, pc, bias.IsEmpty ? null : pb)], context, geluFirst: true);
            }
            context.Profile?.Record("gemm-int8 gelu", $"M={m} N={n} K={k}", 2.0 * m * n * k, started);
            return;
        }
        if (m < PackedMinRows || k % 16 != 0 || !Avx512F.IsSupported || !Vector512.IsHardwareAccelerated)
        {
            float[] activated = new float[(long)m * k];
            Gelu.Apply(a[..activated.Length], activated, context);
            MatMulTransposed(activated, m, w, bias, c, context);
            return;
        }
        long start = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
        fixed (float* pa = a, pb = bias, pc = c)
        {
            GemmPacked.Run(pa, m, w, bias.IsEmpty ? null : pb, pc, context, geluOfA: true);
        }
        context.Profile?.Record("gemm", $"M={m} N={n} K={k} (GELU of A)", 2.0 * m * n * k, start);
    }

    /// <summary>
    /// Two projections of the same input in one pass: C0 = A·W0ᵀ and C1 = A·W1ᵀ (no bias), e.g. the gate and up
    /// projections of an MLP. A is packed once and the work spans both outputs, so a narrow weight (k/v: N = 1024) runs
    /// at the efficiency of the wide total. Every element equals what <see cref="MatMulTransposed(ReadOnlySpan{float}, int, WeightMatrix, ReadOnlySpan{float}, Span{float}, ComputeContext)"/>
    /// gives for its weight alone, bit for bit.
    /// </summary>
    public static void MatMulTransposed(ReadOnlySpan<float> a, int m, WeightMatrix w0, Span<float> c0, WeightMatrix w1, Span<float> c1,
        ComputeContext context, bool batchInvariant = false) =>
        Fused(a, m, w0, c0, w1, c1, null, [], context, batchInvariant);

    /// <summary>Three projections of the same input in one pass (q, k and v), as the two-weight overload.</summary>
    public static void MatMulTransposed(ReadOnlySpan<float> a, int m, WeightMatrix w0, Span<float> c0, WeightMatrix w1, Span<float> c1,
        WeightMatrix w2, Span<float> c2, ComputeContext context, bool batchInvariant = false)
    {
        ArgumentNullException.ThrowIfNull(w2);
        Fused(a, m, w0, c0, w1, c1, w2, c2, context, batchInvariant);
    }

    /// <summary>The two- and three-weight projections (<paramref name="w2"/> null for two).</summary>
    private static void Fused(ReadOnlySpan<float> a, int m, WeightMatrix w0, Span<float> c0, WeightMatrix w1, Span<float> c1,
        WeightMatrix? w2, Span<float> c2, ComputeContext context, bool batchInvariant)
    {
        ArgumentNullException.ThrowIfNull(w0);
        ArgumentNullException.ThrowIfNull(w1);
        ArgumentNullException.ThrowIfNull(context);
        int k = w0.Cols;
        foreach (var w in (ReadOnlySpan<WeightMatrix?>)[w1, w2])
        {
            if (w is not null && w.Cols != k)
            {
                throw new ArgumentException($"Fused weights must share K: {w0.Rows}×{k} and {w.Rows}×{w.Cols}.");
            }
        }
        CheckShapes(a.Length, m, k, w0.Rows, 0, c0.Length);
        CheckShapes(a.Length, m, k, w1.Rows, 0, c1.Length);
        if (w2 is not null)
        {
            CheckShapes(a.Length, m, k, w2.Rows, 0, c2.Length);
        }
        if (m == 0)
        {
            return;
        }
        if (w0.Type == WeightType.I8Vnni && w1.Type == WeightType.I8Vnni && (w2 is null || w2.Type == WeightType.I8Vnni))
        {
            // Int8: the activations are quantized once for all the weights.
            long started = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
            fixed (float* pa = a, p0 = c0, p1 = c1, p2 = c2)
            {
                GemmInt8.Run(pa, m, w2 is null ? [new(w0, p0, null), new(w1, p1, null)] : [new(w0, p0, null), new(w1, p1, null), new(w2, p2, null)], context);
            }
            int nAll = w0.Rows + w1.Rows + (w2?.Rows ?? 0);
            context.Profile?.Record("gemm-int8", $"M={m} N={nAll} K={k} (fused {(w2 is null ? 2 : 3)})", 2.0 * m * nAll * k, started);
            return;
        }
        if (m < PackedMinRows && !batchInvariant || !Avx512F.IsSupported || !Vector512.IsHardwareAccelerated
            || w0.Type == WeightType.I8Vnni || w1.Type == WeightType.I8Vnni || w2?.Type == WeightType.I8Vnni)
        {
            // Streaming dot products read every weight row once anyway: fusing gains nothing there (nor for int8 weights,
            // whose activations are quantized per call).
            MatMulTransposed(a, m, w0, default, c0, context, batchInvariant);
            MatMulTransposed(a, m, w1, default, c1, context, batchInvariant);
            if (w2 is not null)
            {
                MatMulTransposed(a, m, w2, default, c2, context, batchInvariant);
            }
            return;
        }
        long start = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
        int n = w0.Rows + w1.Rows + (w2?.Rows ?? 0);
        fixed (float* pa = a, p0 = c0, p1 = c1, p2 = c2)
        {
            GemmTarget[] targets = w2 is null
                ? [new(w0, p0, null), new(w1, p1, null)]
                : [new(w0, p0, null), new(w1, p1, null), new(w2, p2, null)];
            GemmPacked.Run(pa, m, targets, context);
        }
        context.Profile?.Record("gemm", $"M={m} N={n} K={k} (fused {(w2 is null ? 2 : 3)})", 2.0 * m * n * k, start);
    }

    /// <summary>Null and shape checks of a single-weight call; returns (K, N).</summary>
    private static (int K, int N) CheckArguments(int aLength, int m, WeightMatrix w, int biasLength, int cLength, ComputeContext context)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(context);
        CheckShapes(aLength, m, w.Cols, w.Rows, biasLength, cLength);
        return (w.Cols, w.Rows);
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
