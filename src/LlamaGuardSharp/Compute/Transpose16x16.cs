using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// 16×16 float transposes in registers (unpack / 128-bit shuffle steps), shared by the packing routines of the GEMM
/// (A and B micro-panels) and attention (Kᵀ and Q panels): a column of 16 rows costs one masked store instead of 16
/// scalar stores.
/// </summary>
internal static unsafe class Transpose16x16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo64(Vector512<float> x, Vector512<float> y) => Avx512F.UnpackLow(x.AsDouble(), y.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi64(Vector512<float> x, Vector512<float> y) => Avx512F.UnpackHigh(x.AsDouble(), y.AsDouble()).AsSingle();

    /// <summary>
    /// Transposes the 16×16 block whose rows are r0..r15: writes column j (16 values, row order) to dst + j·stride under
    /// <paramref name="mask"/> (lanes of rows that do not exist are masked off so nothing past a 14-float slot is written).
    /// Unpack steps interleave pairs of rows at 32 then 64 bits (four rows per 128-bit lane), then 128-bit shuffles gather
    /// the four lanes of each column.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(
        Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3,
        Vector512<float> r4, Vector512<float> r5, Vector512<float> r6, Vector512<float> r7,
        Vector512<float> r8, Vector512<float> r9, Vector512<float> r10, Vector512<float> r11,
        Vector512<float> r12, Vector512<float> r13, Vector512<float> r14, Vector512<float> r15,
        float* dst, long stride, Vector512<float> mask)
    {
        Vector512<float> t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1);
        Vector512<float> t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
        Vector512<float> t4 = Avx512F.UnpackLow(r4, r5), t5 = Avx512F.UnpackHigh(r4, r5);
        Vector512<float> t6 = Avx512F.UnpackLow(r6, r7), t7 = Avx512F.UnpackHigh(r6, r7);
        Vector512<float> t8 = Avx512F.UnpackLow(r8, r9), t9 = Avx512F.UnpackHigh(r8, r9);
        Vector512<float> t10 = Avx512F.UnpackLow(r10, r11), t11 = Avx512F.UnpackHigh(r10, r11);
        Vector512<float> t12 = Avx512F.UnpackLow(r12, r13), t13 = Avx512F.UnpackHigh(r12, r13);
        Vector512<float> t14 = Avx512F.UnpackLow(r14, r15), t15 = Avx512F.UnpackHigh(r14, r15);
        Vector512<float> u0 = Lo64(t0, t2), u1 = Hi64(t0, t2), u2 = Lo64(t1, t3), u3 = Hi64(t1, t3);
        Vector512<float> u4 = Lo64(t4, t6), u5 = Hi64(t4, t6), u6 = Lo64(t5, t7), u7 = Hi64(t5, t7);
        Vector512<float> u8 = Lo64(t8, t10), u9 = Hi64(t8, t10), u10 = Lo64(t9, t11), u11 = Hi64(t9, t11);
        Vector512<float> u12 = Lo64(t12, t14), u13 = Hi64(t12, t14), u14 = Lo64(t13, t15), u15 = Hi64(t13, t15);
        // u0 holds, per 128-bit lane L, column 4L+0 of rows 0..3; u1 column 4L+1; u2 column 4L+2; u3 column 4L+3.
        Store4(u0, u4, u8, u12, dst, 0, stride, mask);
        Store4(u1, u5, u9, u13, dst, 1, stride, mask);
        Store4(u2, u6, u10, u14, dst, 2, stride, mask);
        Store4(u3, u7, u11, u15, dst, 3, stride, mask);
    }

    /// <summary>
    /// a, b, c, d hold column (4L + col) of row groups 0-3, 4-7, 8-11, 12-15 in 128-bit lane L. Writes, for L = 0..3,
    /// the 16 values of column 4L + col to dst + (4L + col)·stride.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, float* dst, int col,
        long stride, Vector512<float> mask)
    {
        // imm 0x44 picks lanes (0,1) of x and (0,1) of y; 0xEE lanes (2,3).
        Vector512<float> abLo = Avx512F.Shuffle4x128(a, b, 0x44), abHi = Avx512F.Shuffle4x128(a, b, 0xEE);
        Vector512<float> cdLo = Avx512F.Shuffle4x128(c, d, 0x44), cdHi = Avx512F.Shuffle4x128(c, d, 0xEE);
        // abLo = [a0 a1 b0 b1], cdLo = [c0 c1 d0 d1]; 0x88 -> [x0 x2 y0 y2] = [a0 b0 c0 d0]; 0xDD -> [a1 b1 c1 d1].
        Avx512F.MaskStore(dst + (0 * 4 + col) * stride, mask, Avx512F.Shuffle4x128(abLo, cdLo, 0x88));
        Avx512F.MaskStore(dst + (1 * 4 + col) * stride, mask, Avx512F.Shuffle4x128(abLo, cdLo, 0xDD));
        Avx512F.MaskStore(dst + (2 * 4 + col) * stride, mask, Avx512F.Shuffle4x128(abHi, cdHi, 0x88));
        Avx512F.MaskStore(dst + (3 * 4 + col) * stride, mask, Avx512F.Shuffle4x128(abHi, cdHi, 0xDD));
    }
}
