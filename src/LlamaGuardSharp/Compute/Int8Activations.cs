using System.Buffers;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Per-row dynamic quantization of activations for <see cref="GemmInt8"/>: row i gets scale s[i] = max_k |A[i, k]| / 127
/// and bytes u[i, k] = round_even(A[i, k] · (127 / max)) + 128 (so in [1, 255]; <c>vpdpbusd</c> takes its first operand
/// unsigned), K padded to a multiple of 4 with 128 (a quantized zero). The vector path and
/// <see cref="QuantizeReference"/> give identical bytes and scales (same operations, same rounding).
/// </summary>
internal static unsafe class Int8Activations
{
    /// <summary>
    /// Quantizes M rows of K floats into <paramref name="u8"/> (M rows of <see cref="Int8Weights.PaddedCols"/> bytes) and
    /// <paramref name="scales"/>; with <paramref name="gelu"/>, the rows of GELU(A) (<see cref="Gelu"/>, one row at a time
    /// into a row buffer, so the activated matrix is never written out).
    /// </summary>
    public static void Quantize(float* a, int m, int k, byte* u8, float* scales, ComputeContext context, bool gelu = false)
    {
        nint ap = (nint)a, up = (nint)u8, sp = (nint)scales;
        int kp = Int8Weights.PaddedCols(k);
        const int RowsPerItem = 16;
        context.For((m + RowsPerItem - 1) / RowsPerItem, item =>
        {
            int i1 = Math.Min(m, (item + 1) * RowsPerItem);
            float[]? activated = gelu ? ArrayPool<float>.Shared.Rent(k) : null;
            try
            {
                fixed (float* pa = activated)
                {
                    for (int i = item * RowsPerItem; i < i1; i++)
                    {
                        float* row = (float*)ap + (long)i * k;
                        if (pa != null)
                        {
                            Gelu.Apply(new ReadOnlySpan<float>(row, k), activated);
                            row = pa;
                        }
                        ((float*)sp)[i] = QuantizeRow(row, k, (byte*)up + (long)i * kp);
                    }
                }
            }
            finally
            {
                if (activated is not null)
                {
                    ArrayPool<float>.Shared.Return(activated);
                }
            }
        });
    }

    /// <summary>One row of <see cref="Quantize"/>: K floats into <see cref="Int8Weights.PaddedCols"/> bytes; returns the scale.</summary>
    public static float QuantizeRow(float* row, int k, byte* u)
    {
        if (Avx512F.IsSupported)
        {
            return QuantizeRowVector(row, k, u);
        }
        float scale;
        QuantizeReference(row, 1, k, u, &scale);
        return scale;
    }

    private static float QuantizeRowVector(float* row, int k, byte* u)
    {
        Vector512<float> max512 = Vector512<float>.Zero;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            max512 = Vector512.Max(max512, Vector512.Abs(Vector512.Load(row + p)));
        }
        float max = HorizontalMax(max512);
        for (; p < k; p++)
        {
            max = MathF.Max(max, MathF.Abs(row[p]));
        }
        int kp = Int8Weights.PaddedCols(k);
        if (max == 0 || !float.IsFinite(max))
        {
            // A zero row quantizes to zeros; a non-finite one would poison every output of the row either way, so it
            // does the same as fp32 would: NaN scale, NaN results.
            new Span<byte>(u, kp).Fill(128);
            return max == 0 ? 0 : float.NaN;
        }
        float inverse = 127f / max;
        Vector512<float> inv = Vector512.Create(inverse);
        Vector512<int> offset = Vector512.Create(128);
        p = 0;
        for (; p + 16 <= k; p += 16)
        {
            // Round half to even (the MXCSR default), like MathF.Round in the reference; |x · inv| ≤ 127 up to rounding,
            // so the clamp only guards against 127.00001.
            Vector512<int> q = Avx512F.ConvertToVector512Int32(Vector512.Load(row + p) * inv);
            q = Vector512.Min(Vector512.Max(q, Vector512.Create(-127)), Vector512.Create(127)) + offset;
            Avx512F.ConvertToVector128Byte(q).Store(u + p);
        }
        for (; p < k; p++)
        {
            u[p] = (byte)((int)Math.Clamp(MathF.Round(row[p] * inverse), -127f, 127f) + 128);
        }
        for (; p < kp; p++)
        {
            u[p] = 128;
        }
        return max / 127f;
    }

    private static float HorizontalMax(Vector512<float> v)
    {
        Vector256<float> h = Vector256.Max(v.GetLower(), v.GetUpper());
        Vector128<float> q = Vector128.Max(h.GetLower(), h.GetUpper());
        float max = 0;
        for (int i = 0; i < 4; i++)
        {
            max = MathF.Max(max, q[i]);
        }
        return max;
    }

    /// <summary>The scalar reference of <see cref="Quantize"/>.</summary>
    public static void QuantizeReference(float* a, int m, int k, byte* u8, float* scales)
    {
        int kp = Int8Weights.PaddedCols(k);
        for (int i = 0; i < m; i++)
        {
            float* row = a + (long)i * k;
            byte* u = u8 + (long)i * kp;
            float max = 0;
            for (int p = 0; p < k; p++)
            {
                max = MathF.Max(max, MathF.Abs(row[p]));
            }
            if (max == 0 || !float.IsFinite(max))
            {
                new Span<byte>(u, kp).Fill(128);
                scales[i] = max == 0 ? 0 : float.NaN;
                continue;
            }
            float inverse = 127f / max;
            for (int p = 0; p < k; p++)
            {
                u[p] = (byte)((int)Math.Clamp(MathF.Round(row[p] * inverse), -127f, 127f) + 128);
            }
            for (int p = k; p < kp; p++)
            {
                u[p] = 128;
            }
            scales[i] = max / 127f;
        }
    }
}
