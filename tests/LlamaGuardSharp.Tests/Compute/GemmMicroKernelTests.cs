using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Compute;

public unsafe class GemmMicroKernelTests
{
    [Avx512Theory("micro-kernels Kernel8x32/Kernel12x32/Kernel14x32")]
    [InlineData(1, 1, false, false)]
    [InlineData(3, 17, true, false)]
    [InlineData(8, 80, false, true)]
    [InlineData(8, 683, true, true)]
    [InlineData(5, 64, true, true)]
    public void Kernel8x32_GivesTheBitsOfKernel14x32_AndLeavesLaterRowsAlone(int rows, int kc, bool accumulate, bool withBias)
    {
        Avx512Kernels.Require();
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

    [Avx512Theory("micro-kernel Kernel14x32 with prefetch streams")]
    [InlineData(1, 0, false, false)]
    [InlineData(17, 5, true, false)]
    [InlineData(80, 80, false, true)]
    [InlineData(80, 500, true, true)]   // more A prefetch lines than k steps: clamped to kc
    [InlineData(683, 600, true, true)]
    [InlineData(64, 0, true, true)]
    public void Kernel14x32_WithPrefetchStreams_GivesTheBitsWithout(int kc, int aLines, bool withB, bool accumulate)
    {
        Avx512Kernels.Require();
        var rng = new Random(HashCode.Combine(kc, aLines, withB, accumulate));
        float[] a = Values(rng, kc * 14), b = Values(rng, kc * 32), bias = Values(rng, 32), start = Values(rng, 14 * 40);
        float[] plain = (float[])start.Clone(), prefetching = (float[])start.Clone();
        // The prefetch streams point into buffers of their own (sized for the lines they walk), as the GEMM's do.
        byte[] streamA = new byte[Math.Max(1, aLines) * 64], streamB = new byte[kc * 128];
        fixed (float* pa = a, pb = b, pBias = bias, pPlain = plain, pPre = prefetching)
        fixed (byte* sa = streamA, sb = streamB)
        {
            GemmMicroKernel.Kernel14x32(pa, pb, kc, pPlain, 40, accumulate, pBias);
            GemmMicroKernel.Kernel14x32(pa, pb, kc, pPre, 40, accumulate, pBias, aLines == 0 ? null : sa, aLines, withB ? sb : null);
        }
        for (int i = 0; i < plain.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(plain[i]) == BitConverter.SingleToInt32Bits(prefetching[i]),
                $"[{i / 40},{i % 40}] {prefetching[i]:R} vs {plain[i]:R}");
        }
    }

    private static float[] Values(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
}
