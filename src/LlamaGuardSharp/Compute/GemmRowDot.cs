using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>How a weight element type is widened to float32 inside the streaming kernels (JIT-specialised per type).</summary>
internal unsafe interface IWeightWidener
{
    static abstract Vector512<float> Load16(void* row, int index);

    static abstract float Load1(void* row, int index);

    static abstract int ElementSize { get; }
}

internal readonly unsafe struct Bf16Widener : IWeightWidener
{
    public static int ElementSize => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(void* row, int index) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)row + index)), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(void* row, int index) => BitConverter.Int32BitsToSingle(((ushort*)row)[index] << 16);
}

internal readonly unsafe struct F32Widener : IWeightWidener
{
    public static int ElementSize => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(void* row, int index) => Vector512.Load((float*)row + index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(void* row, int index) => ((float*)row)[index];
}

internal readonly unsafe struct F16Widener : IWeightWidener
{
    public static int ElementSize => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(void* row, int index)
    {
        // Bit-exact half -> single: shift the exponent/mantissa into place and rescale by 2^112 (exact for normals and
        // subnormals), then patch infinities/NaNs and put the sign back.
        Vector512<uint> u = Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)row + index));
        Vector512<uint> abs = u & Vector512.Create(0x7FFFu);
        Vector512<uint> shifted = abs << 13;
        Vector512<float> scaled = shifted.AsSingle() * Vector512.Create(BitConverter.Int32BitsToSingle((127 + 112) << 23));
        Vector512<float> special = (shifted | Vector512.Create(0x7F80_0000u)).AsSingle();
        Vector512<float> value = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(abs, Vector512.Create(0x7C00u)).AsSingle(), special, scaled);
        return (value.AsUInt32() | ((u & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(void* row, int index) => (float)((Half*)row)[index];
}

/// <summary>
/// GEMM for few rows of A (decode, M = 1, and small M): streams each weight row once, widening on the fly, and
/// computes 4 weight rows × up to 4 A rows per pass as dot products held in 16 zmm accumulators. Memory-bound at
/// M = 1 (2 bytes of bf16 weight per 2 FLOPs), so its job is to keep both cores' load streams busy.
/// Per output element the order is fixed: 16 lane sums over K in steps of 16, a horizontal sum, the K % 16 tail,
/// then the bias, independent of the thread count.
/// </summary>
internal static unsafe class GemmRowDot
{
    /// <summary>
    /// Software prefetch distance per weight row in the M = 1 loop: the hardware prefetchers alone leave the decode GEMVs
    /// well below the streaming-read bandwidth with four interleaved row streams; 1 KiB ahead was the best distance
    /// measured (A/B figures: docs/performance-log.md).
    /// Near a row's end the prefetch runs into the next rows, which are read next anyway (and, for the last rows, past the
    /// matrix: prefetches never fault). One prefetch per row per 32 elements covers every 64-byte line of bf16/f16
    /// weights; f32 weights get every other line prefetched and the rest from the hardware prefetchers.
    /// </summary>
    private const int PrefetchBytes = 1024;
    private const int RowsPerItem = 64; // weight rows per work item: 8 KiB..28 KiB of bf16 per row × 64 rows

    public static void Run(float* a, int m, WeightMatrix w, float* bias, float* c, ComputeContext context)
    {
        switch (w.Type)
        {
            case WeightType.BF16:
                Run<Bf16Widener>(a, m, w, bias, c, context);
                break;
            case WeightType.F32:
                Run<F32Widener>(a, m, w, bias, c, context);
                break;
            case WeightType.F16:
                Run<F16Widener>(a, m, w, bias, c, context);
                break;
            default:
                throw new NotSupportedException($"Weight type {w.Type} is not supported.");
        }
    }

    private static void Run<T>(float* a, int m, WeightMatrix w, float* bias, float* c, ComputeContext context)
        where T : struct, IWeightWidener
    {
        int n = w.Rows, k = w.Cols;
        nint aPtr = (nint)a, cPtr = (nint)c, bPtr = (nint)bias, wPtr = (nint)w.Data;
        int items = (n + RowsPerItem - 1) / RowsPerItem;
        context.For(items, item =>
        {
            int j0 = item * RowsPerItem, j1 = Math.Min(n, j0 + RowsPerItem);
            RunRows<T>((float*)aPtr, m, k, n, (byte*)wPtr, j0, j1, (float*)bPtr, (float*)cPtr);
        });
    }

    private static void RunRows<T>(float* a, int m, int k, int n, byte* w, int j0, int j1, float* bias, float* c)
        where T : struct, IWeightWidener
    {
        long rowBytes = (long)k * T.ElementSize;
        int j = j0;
        for (; j + 4 <= j1; j += 4)
        {
            byte* w0 = w + j * rowBytes;
            int i = 0;
            float* bj = bias == null ? null : bias + j;
            for (; i + 4 <= m; i += 4)
            {
                DotRowsx4<T, FourRows>(a + (long)i * k, k, w0, rowBytes, c + (long)i * n + j, n, bj);
            }
            // The last 1–3 rows of A also share each pass over the 4 weight rows: a forced 3-token step (Extend) streams
            // the weights once instead of reading them from DRAM once and from L2 twice.
            switch (m - i)
            {
                case 3:
                    DotRowsx4<T, ThreeRows>(a + (long)i * k, k, w0, rowBytes, c + (long)i * n + j, n, bj);
                    break;
                case 2:
                    DotRowsx4<T, TwoRows>(a + (long)i * k, k, w0, rowBytes, c + (long)i * n + j, n, bj);
                    break;
                case 1:
                    Dot1x4<T>(a + (long)i * k, k, w0, rowBytes, c + (long)i * n + j, bj);
                    break;
            }
        }
        for (; j < j1; j++)
        {
            byte* wj = w + j * rowBytes;
            for (int i = 0; i < m; i++)
            {
                float* ai = a + (long)i * k;
                Vector512<float> acc = Vector512<float>.Zero;
                int p = 0;
                for (; p + 16 <= k; p += 16)
                {
                    acc = Vector512.FusedMultiplyAdd(Vector512.Load(ai + p), T.Load16(wj, p), acc);
                }
                float s = Vector512.Sum(acc);
                for (; p < k; p++)
                {
                    s = MathF.FusedMultiplyAdd(ai[p], T.Load1(wj, p), s);
                }
                c[(long)i * n + j] = bias == null ? s : s + bias[j];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot1x4<T>(float* a, int k, byte* w0, long rowBytes, float* c, float* bias)
        where T : struct, IWeightWidener
    {
        byte* w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p + 32 <= k; p += 32)
        {
            Sse.Prefetch0((byte*)w0 + (long)p * T.ElementSize + PrefetchBytes);
            Sse.Prefetch0((byte*)w1 + (long)p * T.ElementSize + PrefetchBytes);
            Sse.Prefetch0((byte*)w2 + (long)p * T.ElementSize + PrefetchBytes);
            Sse.Prefetch0((byte*)w3 + (long)p * T.ElementSize + PrefetchBytes);
            Vector512<float> x = Vector512.Load(a + p);
            s0 = Vector512.FusedMultiplyAdd(x, T.Load16(w0, p), s0);
            s1 = Vector512.FusedMultiplyAdd(x, T.Load16(w1, p), s1);
            s2 = Vector512.FusedMultiplyAdd(x, T.Load16(w2, p), s2);
            s3 = Vector512.FusedMultiplyAdd(x, T.Load16(w3, p), s3);
            x = Vector512.Load(a + p + 16);
            s0 = Vector512.FusedMultiplyAdd(x, T.Load16(w0, p + 16), s0);
            s1 = Vector512.FusedMultiplyAdd(x, T.Load16(w1, p + 16), s1);
            s2 = Vector512.FusedMultiplyAdd(x, T.Load16(w2, p + 16), s2);
            s3 = Vector512.FusedMultiplyAdd(x, T.Load16(w3, p + 16), s3);
        }
        for (; p + 16 <= k; p += 16)
        {
            Vector512<float> x = Vector512.Load(a + p);
            s0 = Vector512.FusedMultiplyAdd(x, T.Load16(w0, p), s0);
            s1 = Vector512.FusedMultiplyAdd(x, T.Load16(w1, p), s1);
            s2 = Vector512.FusedMultiplyAdd(x, T.Load16(w2, p), s2);
            s3 = Vector512.FusedMultiplyAdd(x, T.Load16(w3, p), s3);
        }
        FinishCall<T>(s0, s1, s2, s3, a, k, p, w0, rowBytes, c, bias);
    }

    /// <summary>Rows of A handled together by <see cref="DotRowsx4{T, R}"/> (a constant per instantiation, so the JIT drops
    /// the unused rows' code and accumulators).</summary>
    private interface IRowCount
    {
        static abstract int Count { get; }
    }

    private struct TwoRows : IRowCount
    {
        public static int Count => 2;
    }

    private struct ThreeRows : IRowCount
    {
        public static int Count => 3;
    }

    private struct FourRows : IRowCount
    {
        public static int Count => 4;
    }

    /// <summary>
    /// R (2–4) rows of A against 4 weight rows in up to 16 accumulators: each weight vector is loaded and widened once
    /// for all R rows. Per output element the same order as <see cref="Dot1x4{T}"/> (so a row's bits do not depend on
    /// how many rows share the pass); weight rows are prefetched as there, once per 32 elements.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void DotRowsx4<T, R>(float* a, int k, byte* w0, long rowBytes, float* c, int ldc, float* bias)
        where T : struct, IWeightWidener
        where R : struct, IRowCount
    {
        byte* w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
        float* a1 = a + k, a2 = a1 + k, a3 = a2 + k;
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default;
        Vector512<float> s30 = default, s31 = default, s32 = default, s33 = default;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            Sse.Prefetch0(w0 + (long)p * T.ElementSize + PrefetchBytes);
            Sse.Prefetch0(w1 + (long)p * T.ElementSize + PrefetchBytes);
            Sse.Prefetch0(w2 + (long)p * T.ElementSize + PrefetchBytes);
            Sse.Prefetch0(w3 + (long)p * T.ElementSize + PrefetchBytes);
            Vector512<float> b0 = T.Load16(w0, p), b1 = T.Load16(w1, p), b2 = T.Load16(w2, p), b3 = T.Load16(w3, p);
            Vector512<float> x = Vector512.Load(a + p);
            s00 = Vector512.FusedMultiplyAdd(x, b0, s00);
            s01 = Vector512.FusedMultiplyAdd(x, b1, s01);
            s02 = Vector512.FusedMultiplyAdd(x, b2, s02);
            s03 = Vector512.FusedMultiplyAdd(x, b3, s03);
            x = Vector512.Load(a1 + p);
            s10 = Vector512.FusedMultiplyAdd(x, b0, s10);
            s11 = Vector512.FusedMultiplyAdd(x, b1, s11);
            s12 = Vector512.FusedMultiplyAdd(x, b2, s12);
            s13 = Vector512.FusedMultiplyAdd(x, b3, s13);
            if (R.Count > 2)
            {
                x = Vector512.Load(a2 + p);
                s20 = Vector512.FusedMultiplyAdd(x, b0, s20);
                s21 = Vector512.FusedMultiplyAdd(x, b1, s21);
                s22 = Vector512.FusedMultiplyAdd(x, b2, s22);
                s23 = Vector512.FusedMultiplyAdd(x, b3, s23);
            }
            if (R.Count > 3)
            {
                x = Vector512.Load(a3 + p);
                s30 = Vector512.FusedMultiplyAdd(x, b0, s30);
                s31 = Vector512.FusedMultiplyAdd(x, b1, s31);
                s32 = Vector512.FusedMultiplyAdd(x, b2, s32);
                s33 = Vector512.FusedMultiplyAdd(x, b3, s33);
            }
        }
        Finish<T>(s00, s01, s02, s03, a, k, p, w0, rowBytes, c, bias);
        Finish<T>(s10, s11, s12, s13, a1, k, p, w0, rowBytes, c + ldc, bias);
        if (R.Count > 2)
        {
            Finish<T>(s20, s21, s22, s23, a2, k, p, w0, rowBytes, c + 2L * ldc, bias);
        }
        if (R.Count > 3)
        {
            Finish<T>(s30, s31, s32, s33, a3, k, p, w0, rowBytes, c + 3L * ldc, bias);
        }
    }

    /// <summary><see cref="Finish{T}"/> as a call, for <see cref="Dot1x4{T}"/> (whose code was tuned with a call there).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FinishCall<T>(Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3,
        float* a, int k, int p, byte* w0, long rowBytes, float* c, float* bias)
        where T : struct, IWeightWidener =>
        Finish<T>(s0, s1, s2, s3, a, k, p, w0, rowBytes, c, bias);

    /// <summary>
    /// One A row against 4 weight rows after the vector loop: horizontal sums, the K % 16 tail from <paramref name="p"/>,
    /// the bias, and the 4 results to c[0..4).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // no call with accumulators live: the JIT spilled them around one
    private static void Finish<T>(Vector512<float> s0, Vector512<float> s1, Vector512<float> s2, Vector512<float> s3,
        float* a, int k, int p, byte* w0, long rowBytes, float* c, float* bias)
        where T : struct, IWeightWidener
    {
        byte* w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
        float r0 = Vector512.Sum(s0), r1 = Vector512.Sum(s1), r2 = Vector512.Sum(s2), r3 = Vector512.Sum(s3);
        for (; p < k; p++)
        {
            float x = a[p];
            r0 = MathF.FusedMultiplyAdd(x, T.Load1(w0, p), r0);
            r1 = MathF.FusedMultiplyAdd(x, T.Load1(w1, p), r1);
            r2 = MathF.FusedMultiplyAdd(x, T.Load1(w2, p), r2);
            r3 = MathF.FusedMultiplyAdd(x, T.Load1(w3, p), r3);
        }
        if (bias != null)
        {
            r0 += bias[0];
            r1 += bias[1];
            r2 += bias[2];
            r3 += bias[3];
        }
        c[0] = r0;
        c[1] = r1;
        c[2] = r2;
        c[3] = r3;
    }
}
