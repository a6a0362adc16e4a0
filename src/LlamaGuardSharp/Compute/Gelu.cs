using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Exact (erf) GELU: y = 0.5·x·(1 + erf(x/√2)), as torch's <c>nn.GELU()</c> / <c>F.gelu(approximate='none')</c>.
/// Evaluated as x·(1 − ½·erfc(z)) for x ≥ 0 and ½·x·erfc(z) for x &lt; 0 with z = |x|/√2, so the far negative tail keeps
/// full relative accuracy (no 1 + erf cancellation). erfc uses the Chebyshev-fitted form
/// t·exp(−z² + P(t)), t = 1/(1 + z/2), whose fractional error is below 1.2e-7 for every z ≥ 0; it is evaluated in
/// double precision (8 lanes per Vector512) so the exponent's argument carries no float32 rounding, and the result
/// is within about 2e-7 relative of the exact GELU after the final rounding to float32. Vectors whose values all lie
/// in [−12, 12] take a float32 evaluation of the same formula (&lt; 5e-7 relative; see <see cref="SinglePrecisionLimit"/>).
/// </summary>
internal static class Gelu
{
    public static unsafe void Apply(ReadOnlySpan<float> x, Span<float> y, ComputeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (y.Length < x.Length)
        {
            throw new ArgumentException("Output is shorter than input.", nameof(y));
        }
        long startTime = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
        fixed (float* px = x, py = y)
        {
            nint xp = (nint)px, yp = (nint)py;
            int n = x.Length;
            const int Chunk = 1 << 15;
            context.For((n + Chunk - 1) / Chunk, item =>
            {
                int start = item * Chunk;
                Run((float*)xp + start, (float*)yp + start, Math.Min(Chunk, n - start));
            });
        }
        context.Profile?.Record("gelu", $"{x.Length}", 0, startTime);
    }

    /// <summary>Single-threaded overload for short vectors.</summary>
    public static unsafe void Apply(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length)
        {
            throw new ArgumentException("Output is shorter than input.", nameof(y));
        }
        fixed (float* px = x, py = y)
        {
            Run(px, py, x.Length);
        }
    }

    private static unsafe void Run(float* x, float* y, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector16(Vector512.Load(x + i)).Store(y + i);
            }
        }
        for (; i < n; i++)
        {
            y[i] = (float)Scalar(x[i]);
        }
    }

    /// <summary>
    /// GELU of 16 values, as <see cref="Apply(ReadOnlySpan{float}, Span{float}, ComputeContext)"/> evaluates each aligned
    /// group of 16 (also used while packing the A operand of vision fc2, which must give the same bits).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Vector16(Vector512<float> v)
    {
        if (Vector512.LessThanOrEqualAll(Vector512.Abs(v), Vector512.Create(SinglePrecisionLimit)))
        {
            return EvaluateSingle(v);
        }
        Vector512<double> lo = Evaluate(Vector512.WidenLower(v)), hi = Evaluate(Vector512.WidenUpper(v));
        return Vector512.Narrow(lo, hi);
    }

    /// <summary>
    /// Up to this |x| a whole vector is evaluated in float32 (16 lanes) instead of double. The float path keeps the
    /// exponent's argument exact where it matters: z² = x²/2 as hi + lo from x (an FMA; z itself is rounded, and its
    /// 6e-8 relative error would put 1.2e-7·z² into the exponent, 8.6e-6 at x = −12), and the rounding error of
    /// p − z² carried to the end (e^(arg + argLow) ≈ e^arg·(1 + argLow)); worst seen over a dense sweep of [−12, 12]:
    /// under 5e-7 relative. At 12, e^(−z²) ≈ 5e-32 is far from float32's underflow (e^−87). A low limit is slow: real
    /// pre-activations put a large |x| in many 16-value groups, each of which would pay for two double evaluations.
    /// Above 12 the double path keeps the tails exact.
    /// </summary>
    private const float SinglePrecisionLimit = 12f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> EvaluateSingle(Vector512<float> x)
    {
        Vector512<float> z = Vector512.Abs(x) * Vector512.Create(0.70710678118654752440f);
        Vector512<float> den = Vector512<float>.One + Vector512.Create(0.5f) * z;
        // 1/den by vrcp14ps and one Newton step (≤ 1 ulp off the division; vdivps on zmm is a 10-cycle port-0 op).
        Vector512<float> t0 = Avx512F.Reciprocal14(den);
        Vector512<float> t = Vector512.FusedMultiplyAdd(t0, Avx512F.FusedMultiplyAddNegated(den, t0, Vector512<float>.One), t0);
        // The coefficients of Evaluate, unrolled on purpose: a loop over one shared table did not unroll and made
        // this path ≈ 2× slower (gelu-probe 38–42 ms vs 17–29 ms).
        Vector512<float> p = Vector512.Create(0.17087277f);
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-0.82215223f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(1.48851587f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-1.13520398f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.27886807f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-0.18628806f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.09678418f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.37409196f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(1.00002368f));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-1.26551223f));
        // exp(p − z²) with the argument carried as arg + argLow: z² = zz + zzLow exactly, from x (see
        // SinglePrecisionLimit), and p − zz split into its rounded value and rounding error (Fast2Sum: arg + zz is exact
        // when |zz| ≥ |p|, i.e. whenever zz is large enough to matter).
        Vector512<float> xx = x * x, half = Vector512.Create(0.5f);
        Vector512<float> zz = xx * half, zzLow = Vector512.FusedMultiplyAdd(x, x, -xx) * half;
        Vector512<float> arg = p - zz, argLow = (p - (arg + zz)) - zzLow; // arg + zz is exact (Sterbenz)
        Vector512<float> e = VectorExp.ExpNonPositive(arg);
        Vector512<float> erfc = t * Vector512.FusedMultiplyAdd(e, argLow, e); // e^(arg + argLow) ≈ e^arg · (1 + argLow)
        Vector512<float> halfX = Vector512.Create(0.5f) * x;
        Vector512<float> negative = halfX * erfc;
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), negative, x - negative);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<double> Evaluate(Vector512<double> x)
    {
        Vector512<double> z = Vector512.Abs(x) * Vector512.Create(0.70710678118654752440);
        Vector512<double> t = Vector512<double>.One / (Vector512<double>.One + Vector512.Create(0.5) * z);
        Vector512<double> p = Vector512.Create(0.17087277);
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-0.82215223));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(1.48851587));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-1.13520398));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.27886807));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-0.18628806));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.09678418));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(0.37409196));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(1.00002368));
        p = Vector512.FusedMultiplyAdd(p, t, Vector512.Create(-1.26551223));
        Vector512<double> erfc = t * Vector512.Exp(p - z * z);
        Vector512<double> halfX = Vector512.Create(0.5) * x;
        // x ≥ 0: x − ½x·erfc;  x < 0: ½x·erfc.
        Vector512<double> negative = halfX * erfc;
        Vector512<double> positive = x - negative;
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<double>.Zero), negative, positive);
    }

    /// <summary>The same formula for one value (tails of vectors, hosts without AVX-512).</summary>
    internal static double Scalar(double x)
    {
        double z = Math.Abs(x) * 0.70710678118654752440;
        double t = 1.0 / (1.0 + 0.5 * z);
        double p = 0.17087277;
        p = p * t - 0.82215223;
        p = p * t + 1.48851587;
        p = p * t - 1.13520398;
        p = p * t + 0.27886807;
        p = p * t - 0.18628806;
        p = p * t + 0.09678418;
        p = p * t + 0.37409196;
        p = p * t + 1.00002368;
        p = p * t - 1.26551223;
        double erfc = t * Math.Exp(p - z * z);
        return x < 0 ? 0.5 * x * erfc : x - 0.5 * x * erfc;
    }
}
