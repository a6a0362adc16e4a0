using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Compute;

public unsafe class GemmMicroKernelTests
{
    [Theory]
    [InlineData(1, 1, false, false)]
    [InlineData(3, 17, true, false)]
    [InlineData(8, 80, false, true)]
    [InlineData(8, 683, true, true)]
    [InlineData(5, 64, true, true)]
    public void Kernel8x32_GivesTheBitsOfKernel14x32_AndLeavesLaterRowsAlone(int rows, int kc, bool accumulate, bool withBias)
    {
        var rng = new Random(HashCode.Combine(rows, kc, accumulate, withBias));
        float[] a = Values(rng, kc * 14), b = Values(rng, kc * 32), bias = Values(rng, 32), start = Values(rng, 14 * 40);
        float[] full = (float[])start.Clone(), shortRows = (float[])start.Clone();
        fixed (float* pa = a, pb = b, pBias = bias, pFull = full, pShort = shortRows)
        {
            // C with a row stride of 40 (wider than the tile), as the GEMM calls it with ldc = N.
            GemmMicroKernel.Kernel14x32(pa, pb, kc, pFull, 40, accumulate, withBias ? pBias : null);
            GemmMicroKernel.Kernel8x32(pa, pb, kc, pShort, 40, rows, accumulate, withBias ? pBias : null);
        }
        for (int r = 0; r < 14; r++)
        {
            for (int j = 0; j < 40; j++)
            {
                int i = r * 40 + j;
                // Rows below `rows`, columns < 32: the 14-row kernel's bits. Everything else: untouched.
                float expected = r < rows && j < 32 ? full[i] : start[i];
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(shortRows[i]),
                    $"[{r},{j}] {shortRows[i]:R} vs {expected:R}");
            }
        }
    }

    private static float[] Values(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
}
