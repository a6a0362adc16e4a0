using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Float32 exponentials of non-positive arguments for the kernels' hot loops (AVX-512): e^x for GELU's erfc and 2^x for
/// the attention's softmax, each ≈ 1 ulp, exactly 0 far below the subnormal range (hidden keys' −inf included).
/// </summary>
internal static class VectorExp
{
    /// <summary>
    /// Lower clamp of <see cref="ExpNonPositive"/>: −104 gives n = round(−104·log2 e) = −150 and r ≈ −0.03, so
    /// e^r·2^−150 ≈ 0.49 · 2^−149 rounds to +0. Arguments in (−104, −87.3) give subnormal values ≤ 1.2e−38, as the
    /// true e^x is; e^x for x below −104 is under half the smallest subnormal, so 0 is the correctly rounded result.
    /// </summary>
    private const float ExpClamp = -104f;

    /// <summary>
    /// e^x for x ≤ 0 (e.g. a softmax argument after subtracting the row max), all in float32: x = n·ln2 + r with
    /// |r| ≤ ln2/2, e^r from the degree-7 minimax polynomial of Cephes' expf (relative error ≈ 1e-7), scaled by 2^n
    /// with vscalefps. Arguments below −104 (including −inf for hidden keys) give exactly 0 (see ExpClamp). About 3×
    /// cheaper than <see cref="Vector512.Exp(Vector512{float})"/>, which evaluates in double. (GELU's erfc uses it; the
    /// attention's softmax works in base 2, see <see cref="Exp2NonPositive"/>.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ExpNonPositive(Vector512<float> x)
    {
        Vector512<float> clamped = Vector512.Max(x, Vector512.Create(ExpClamp));
        // n = round(x·log2e) with the 1.5·2^23 shifter: one FMA and one subtraction on either FMA port, instead of
        // vrndscaleps (two uops, port 0 only, which also runs vscalefps). Any n within ±1 of the nearest would do: the
        // polynomial's accuracy holds a little beyond |r| ≤ ln2/2.
        Vector512<float> shifter = Vector512.Create(12582912f);
        Vector512<float> n = Vector512.FusedMultiplyAdd(clamped, Vector512.Create(1.44269504088896341f), shifter) - shifter;
        Vector512<float> r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), clamped);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        Vector512<float> p = Vector512.Create(1.9875691500e-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        p = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        // p·2^n in one vscalefps (exact, like building 2^n in the exponent bits and multiplying, but 1 op instead of 4).
        // At the clamp n = −150 and p < 1, so the product rounds to exactly 0: hidden keys (−inf) need no compare and
        // blend (two of the ≈ 17 vector ops per 16 scores, ≈ 1.5 % of the vision attention).
        return Avx512F.Scale(p, n);
    }

    /// <summary>
    /// 2^x for x ≤ 0, all in float32: the softmax's exponential. The scores are in base-2 units (log2 e is folded into
    /// the Q scale), so x = n + r with n = round(x) (1.5·2^23 shifter) and r = x − n exact in [−0.5, 0.5]; 2^r from a
    /// degree-6 polynomial (near-minimax relative fit, ≤ 1.4 ulp in float32 Horner), scaled by 2^n with vscalefps.
    /// 12 vector operations per 16 values instead of 15 for e^x (no two-constant Cody–Waite reduction, no r² split).
    /// Arguments at or below <see cref="Exp2Clamp"/> (including −inf for hidden keys) give exactly 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp2NonPositive(Vector512<float> x)
    {
        Vector512<float> clamped = Vector512.Max(x, Vector512.Create(Exp2Clamp));
        Vector512<float> shifter = Vector512.Create(12582912f);
        Vector512<float> n = (clamped + shifter) - shifter; // round to nearest: exact for |x| < 2^22
        Vector512<float> r = clamped - n;                     // exact (Sterbenz), |r| ≤ 0.5
        Vector512<float> p = Vector512.Create(1.534581242594868e-4f);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.3399930903688073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(9.618489071726799e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.550328642129898e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.24022646248340607f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.6931471824645996f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        return Avx512F.Scale(p, n);
    }

    /// <summary>
    /// Lower clamp of <see cref="Exp2NonPositive"/>: at −151, n = −151 and r = 0, so 2^−151 (a quarter of the smallest
    /// subnormal) rounds to +0; just above it, r &lt; 0.5 keeps the product under half the smallest subnormal. Arguments
    /// in (−149, −126) give the subnormal 2^x, as they should.
    /// </summary>
    private const float Exp2Clamp = -151f;
}
