namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// McNemar's test of two classifiers on the same items: <see cref="OnlyACorrect"/> (b) items A got right and B wrong,
/// <see cref="OnlyBCorrect"/> (c) the reverse; under H₀ (equal error rates) b ~ Binomial(b + c, ½). When b + c &lt; 25
/// the two-sided exact binomial p-value min(1, 2·Σ_{k ≤ min(b,c)} C(b+c, k)/2^(b+c)) is used; otherwise the
/// chi-square statistic with continuity correction, χ² = (|b − c| − 1)² / (b + c), 1 degree of freedom,
/// p = erfc(√(χ²/2)). No discordant items: p = 1.
/// </summary>
public sealed record McNemarTest(long OnlyACorrect, long OnlyBCorrect, string Method, double? Statistic, double PValue)
{
    /// <summary>Below this many discordant items the exact binomial test is used.</summary>
    public const int ExactBelow = 25;

    /// <summary>The test for the discordant counts b and c.</summary>
    public static McNemarTest Compute(long b, long c)
    {
        long n = b + c;
        if (n < ExactBelow)
        {
            double tail = 0;
            for (long k = 0; k <= Math.Min(b, c); k++)
            {
                tail += BinomialCoefficient(n, k);
            }
            return new McNemarTest(b, c, "exact-binomial", null, Math.Min(1, 2 * tail / Math.Pow(2, n)));
        }
        double chi = Math.Pow(Math.Abs(b - c) - 1, 2) / n;
        return new McNemarTest(b, c, "chi-square-continuity-corrected", chi, Erfc(Math.Sqrt(chi / 2)));
    }

    private static double BinomialCoefficient(long n, long k)
    {
        double value = 1;
        for (long i = 1; i <= k; i++)
        {
            value = value * (n - k + i) / i;
        }
        return value;
    }

    /// <summary>
    /// The complementary error function for x ≥ 0: 1 − erf(x) from the Maclaurin series of erf below 1.5 (where
    /// erfc ≥ 0.03, so the subtraction loses little), the continued fraction
    /// erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) from 1.5 on (evaluated backwards from 100 terms,
    /// which converges there; the series would lose digits to cancellation as erfc shrinks). Relative error below 1e-12.
    /// </summary>
    internal static double Erfc(double x)
    {
        if (x < 0)
        {
            return 2 - Erfc(-x);
        }
        if (x < 1.5)
        {
            double sum = 0, term = x; // term = (−1)ⁿ x^(2n+1) / n!
            for (int k = 0; k < 200; k++)
            {
                double contribution = term / (2 * k + 1);
                sum += contribution;
                if (Math.Abs(contribution) < 1e-17 * Math.Abs(sum))
                {
                    break;
                }
                term *= -x * x / (k + 1);
            }
            return 1 - 2 / Math.Sqrt(Math.PI) * sum;
        }
        double fraction = x;
        for (int k = 100; k >= 1; k--)
        {
            fraction = x + k / 2.0 / fraction;
        }
        return Math.Exp(-x * x) / Math.Sqrt(Math.PI) / fraction;
    }
}
