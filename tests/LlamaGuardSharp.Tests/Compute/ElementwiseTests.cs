using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Compute;

public class ElementwiseTests
{
    private static readonly ComputeContext Two = new(2);

    private static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-4 + 1e-4 * Math.Abs(expected[i]), $"{what}[{i}]: {actual[i]} vs {expected[i]}");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 17)]
    [InlineData(70, 1280)]
    public void LayerNorm_MatchesDoubleReference_InPlaceToo(int rows, int dim)
    {
        var rng = new Random(rows * 31 + dim);
        float[] x = GemmTests.RandomValues(rng, rows * dim).Select(v => v * 4 + 3).ToArray(); // offset mean: tests centring
        float[] w = GemmTests.RandomValues(rng, dim), b = GemmTests.RandomValues(rng, dim);
        double[] expected = ElementwiseReference.LayerNorm(x, rows, dim, w, b, 1e-5);
        float[] y = new float[x.Length];
        LayerNorm.Apply(x, rows, dim, w, b, 1e-5f, y, Two);
        AssertClose(y, expected, "layernorm");
        LayerNorm.Apply(x, rows, dim, w, b, 1e-5f, x, new ComputeContext(1)); // in place
        Assert.Equal(y, x);
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(9, 4096)]
    public void RmsNorm_MatchesDoubleReference(int rows, int dim)
    {
        var rng = new Random(rows + dim);
        float[] x = GemmTests.RandomValues(rng, rows * dim), w = GemmTests.RandomValues(rng, dim);
        float[] y = new float[x.Length];
        RmsNorm.Apply(x, rows, dim, w, 1e-5f, y, Two);
        AssertClose(y, ElementwiseReference.RmsNorm(x, rows, dim, w, 1e-5), "rmsnorm");
    }

    [Fact]
    public void Norms_RejectBadShapes()
    {
        Assert.Throws<ArgumentException>(() => RmsNorm.Apply(new float[8], 2, 4, new float[3], 1e-5f, new float[8], Two));
        Assert.Throws<ArgumentException>(() => LayerNorm.Apply(new float[7], 2, 4, new float[4], new float[4], 1e-5f, new float[8], Two));
    }

    [Avx512Fact("16-lane GELU")]
    public void Gelu_IsWithin5e7RelativeOfDoublePrecision_IncludingTails()
    {
        Avx512Kernels.Require();
        // Dense sweep of [-12, 12] (the negative tail is where 1 + erf cancels) plus random values; 1e5 + 7 elements
        // so the vector body, the thread chunks and the scalar tail all run.
        int n = 100_007;
        float[] x = new float[n];
        var rng = new Random(5);
        for (int i = 0; i < n; i++)
        {
            x[i] = i < 60_000 ? -12f + 24f * i / 60_000 : (float)(rng.NextDouble() * 20 - 10);
        }
        x[0] = 0f;
        x[1] = -0f;
        x[2] = 1e-30f;
        float[] y = new float[n];
        Gelu.Apply(x, y, Two);
        double worst = 0;
        for (int i = 0; i < n; i++)
        {
            double expected = ElementwiseReference.Gelu(x[i]);
            double error = Math.Abs(y[i] - expected);
            if (expected != 0)
            {
                worst = Math.Max(worst, error / Math.Abs(expected));
            }
            // 5e-7: vectors within [−12, 12] take the float32 path (worst seen < 5e-7 since z² is taken exactly from x and
            // the exponent's rounding error is carried exactly); the double path stays ≤ 2e-7.
            Assert.True(error <= 5e-7 * Math.Abs(expected) + 1e-37, $"gelu({x[i]:R}) = {y[i]:R}, expected {expected:R}");
        }
        Assert.True(worst > 0); // the comparison really compared something
    }

    [Fact]
    public void Erfc_Reference_MatchesKnownValues()
    {
        // Tabulated values (Abramowitz & Stegun): erfc(0.5), erfc(1), erfc(3), erfc(5).
        Assert.True(Math.Abs(ElementwiseReference.Erfc(0.5) / 0.4795001221869535 - 1) < 1e-13);
        Assert.True(Math.Abs(ElementwiseReference.Erfc(1) / 0.15729920705028513 - 1) < 1e-13);
        Assert.True(Math.Abs(ElementwiseReference.Erfc(3) / 2.209049699858544e-05 - 1) < 1e-12);
        Assert.True(Math.Abs(ElementwiseReference.Erfc(5) / 1.5374597944280349e-12 - 1) < 1e-12);
    }

    [Avx512Fact("16-lane SwiGLU")]
    public void SwiGlu_MatchesReference_IncludingExtremeGates()
    {
        Avx512Kernels.Require();
        var rng = new Random(9);
        int n = 40_000 + 5;
        float[] g = GemmTests.RandomValues(rng, n).Select(v => v * 30).ToArray(), u = GemmTests.RandomValues(rng, n);
        g[0] = -200f;
        g[1] = 200f;
        float[] y = new float[n];
        SwiGlu.Apply(g, u, y, Two);
        AssertClose(y, Enumerable.Range(0, n).Select(i => ElementwiseReference.SiluGate(g[i], u[i])).ToArray(), "swiglu");
        Assert.Throws<ArgumentException>(() => SwiGlu.Apply(new float[3], new float[4], new float[3], Two));
    }

    [Theory]
    [InlineData(1f)]
    [InlineData(-0.37f)]
    public void Residual_AddScaled_MatchesReference(float scale)
    {
        var rng = new Random(13);
        int n = 70_001;
        float[] x = GemmTests.RandomValues(rng, n), y = GemmTests.RandomValues(rng, n);
        double[] expected = Enumerable.Range(0, n).Select(i => x[i] + (double)scale * y[i]).ToArray();
        Residual.AddScaled(x, y, scale, Two);
        AssertClose(x, expected, "residual");
    }

    [Fact]
    public void Rope_MatchesReference_ForPositionsAndOffsets()
    {
        const int tokens = 5, heads = 3, headDim = 128, maxPositions = 600;
        float[] invFreq = Enumerable.Range(0, headDim / 2).Select(i => (float)Math.Pow(500000, -2.0 * i / headDim)).ToArray();
        float[] cos = new float[maxPositions * headDim / 2], sin = new float[maxPositions * headDim / 2];
        Rope.BuildTables(invFreq, maxPositions, cos, sin);
        var rng = new Random(17);
        float[] x = GemmTests.RandomValues(rng, tokens * heads * headDim);
        float[] viaOffset = (float[])x.Clone(), viaPositions = (float[])x.Clone();
        Rope.Apply(viaOffset, tokens, heads, headDim, cos, sin, firstPosition: 590);
        Rope.Apply(viaPositions, tokens, heads, headDim, cos, sin, new[] { 590, 591, 592, 593, 594 });
        Assert.Equal(viaOffset, viaPositions);
        for (int t = 0; t < tokens; t++)
        {
            for (int h = 0; h < heads; h++)
            {
                int at = (t * heads + h) * headDim;
                AssertClose(viaOffset.AsSpan(at, headDim), ElementwiseReference.Rope(x.AsSpan(at, headDim), 590 + t, invFreq), "rope");
            }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Rope.Apply(x, 1, heads, headDim, cos, sin, firstPosition: maxPositions));
    }
}
