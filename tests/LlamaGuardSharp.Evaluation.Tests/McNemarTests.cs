using LlamaGuardSharp.Evaluation;

namespace LlamaGuardSharp.Evaluation.Tests;

public class McNemarTests
{
    [Fact]
    public void Exact_binomial_for_few_discordant_items()
    {
        // b = 1, c = 9: p = 2·(C(10,0) + C(10,1)) / 2¹⁰ = 22/1024.
        var test = McNemarTest.Compute(1, 9);
        Assert.Equal("exact-binomial", test.Method);
        Assert.Equal(22.0 / 1024, test.PValue, 1e-15);
        // Symmetric counts: the doubled tail exceeds 1 and is capped.
        Assert.Equal(1.0, McNemarTest.Compute(5, 5).PValue);
        Assert.Equal(1.0, McNemarTest.Compute(0, 0).PValue);
        // b = 0, c = 6: 2/64.
        Assert.Equal(2.0 / 64, McNemarTest.Compute(0, 6).PValue, 1e-15);
    }

    [Fact]
    public void Continuity_corrected_chi_square_for_many()
    {
        // b = 30, c = 10: χ² = (|30 − 10| − 1)² / 40 = 9.025; p = erfc(√4.5125) = 0.0026631… (Python's math.erfc:
        // math.erfc(math.sqrt(9.025 / 2)) = 0.002663119259138554).
        var test = McNemarTest.Compute(30, 10);
        Assert.Equal("chi-square-continuity-corrected", test.Method);
        Assert.Equal(9.025, test.Statistic!.Value, 1e-12);
        Assert.Equal(0.002663119259138554, test.PValue, 1e-12);
    }

    [Theory]
    // Reference values from Python's math.erfc (the C library's erfc), printed with repr().
    [InlineData(0.0, 1.0)]
    [InlineData(0.5, 0.4795001221869535)]
    [InlineData(1.0, 0.15729920705028513)]
    [InlineData(1.5, 0.033894853524689274)]
    [InlineData(2.0, 0.004677734981047265)]
    [InlineData(2.9, 4.109787809945886e-05)]
    [InlineData(3.0, 2.2090496998585438e-05)]
    [InlineData(4.0, 1.541725790028002e-08)]
    [InlineData(6.0, 2.1519736712498916e-17)]
    public void Erfc_matches_the_c_library(double x, double expected)
    {
        // Relative: an absolute floor would let the tail rows (2e-17 at x = 6) pass with any value near zero.
        Assert.Equal(expected, McNemarTest.Erfc(x), expected * 1e-12);
    }
}
