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

    [Theory]
    [InlineData(1, 0, false, false)]
    [InlineData(17, 5, true, false)]
    [InlineData(80, 80, false, true)]
    [InlineData(80, 500, true, true)]   // more A prefetch lines than k steps: clamped to kc
    [InlineData(683, 600, true, true)]
    [InlineData(64, 0, true, true)]
    public void Kernel14x32_WithPrefetchStreams_GivesTheBitsWithout(int kc, int aLines, bool withB, bool accumulate)
    {
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

    [Theory]
    [InlineData(1, false)]
    [InlineData(80, true)]
    [InlineData(683, true)]
    public void Kernels_ReadAPanelsWithRowsOf16AsOf14(int kc, bool accumulate)
    {
        // The GEMM packs A with 16 floats per k (14 rows + 2 unused, one aligned line); attention's own panels use 14.
        var rng = new Random(HashCode.Combine(kc, accumulate));
        float[] a = Values(rng, kc * 14), b = Values(rng, kc * 32), bias = Values(rng, 32), start = Values(rng, 14 * 40);
        float[] a16 = new float[kc * 16];
        for (int p = 0; p < kc; p++)
        {
            Array.Copy(a, p * 14, a16, p * 16, 14);
            a16[p * 16 + 14] = float.NaN; // never read
            a16[p * 16 + 15] = float.NaN;
        }
        float[] c14 = (float[])start.Clone(), c16 = (float[])start.Clone(), s14 = (float[])start.Clone(), s16 = (float[])start.Clone();
        fixed (float* pa = a, pa16 = a16, pb = b, pBias = bias, p14 = c14, p16 = c16, q14 = s14, q16 = s16)
        {
            GemmMicroKernel.Kernel14x32(pa, pb, kc, p14, 40, accumulate, pBias);
            GemmMicroKernel.Kernel14x32(pa16, pb, kc, p16, 40, accumulate, pBias, aStride: 16);
            GemmMicroKernel.Kernel8x32(pa, pb, kc, q14, 40, 5, accumulate, pBias);
            GemmMicroKernel.Kernel8x32(pa16, pb, kc, q16, 40, 5, accumulate, pBias, 16);
        }
        for (int i = 0; i < c14.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(c14[i]) == BitConverter.SingleToInt32Bits(c16[i]), $"14x32 [{i / 40},{i % 40}]");
            Assert.True(BitConverter.SingleToInt32Bits(s14[i]) == BitConverter.SingleToInt32Bits(s16[i]), $"8x32 [{i / 40},{i % 40}]");
        }
    }

    private static float[] Values(Random rng, int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
}
