using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Compute;

public class GemmTests
{
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 17, 5)]
    [InlineData(33, 65, 130)]
    public void MatMulTransposed_Bf16_MatchesScalarReference(int m, int k, int n)
    {
        var rng = new Random(m * 1000 + k * 10 + n);
        float[] a = Enumerable.Range(0, m * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        ushort[] w = Enumerable.Range(0, n * k).Select(_ => Bf16.FromSingle((float)(rng.NextDouble() * 2 - 1))).ToArray();
        float[] bias = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble()).ToArray();
        float[] c = new float[m * n];
        Gemm.MatMulTransposed(a, m, WeightMatrix.FromBf16(w, n, k), bias, c, new ComputeContext(2));
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double expected = bias[j];
                for (int p = 0; p < k; p++)
                {
                    expected += (double)a[i * k + p] * Bf16.ToSingle(w[j * k + p]);
                }
                Assert.True(Math.Abs(c[i * n + j] - expected) <= 1e-4 + 1e-4 * Math.Abs(expected), $"[{i},{j}] {c[i * n + j]} vs {expected}");
            }
        }
    }
}
