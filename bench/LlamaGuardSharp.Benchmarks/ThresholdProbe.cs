using System.Diagnostics;
using System.Runtime.InteropServices;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// <c>threshold-probe [threads]</c>: the streaming (row-dot) and packed GEMM paths side by side for small M at
/// K = N = 4096 (bf16), to place <see cref="Gemm.PackedMinRows"/>. Medians of 5, paths interleaved.
/// </summary>
public static unsafe class ThresholdProbe
{
    public static void Run(int threads)
    {
        const int K = 4096, N = 4096;
        var context = new ComputeContext(threads);
        ushort* w = (ushort*)NativeMemory.AlignedAlloc((nuint)((long)N * K * 2), 64);
        var rng = new Random(5);
        for (long i = 0; i < (long)N * K; i++)
        {
            w[i] = (ushort)(0x3C00 + rng.Next(0x200));
        }
        var matrix = new WeightMatrix(w, N, K, WeightType.BF16, null);
        foreach (int m in new[] { 2, 4, 8, 12, 16, 24, 32, 48, 64 })
        {
            float[] a = Enumerable.Range(0, m * K).Select(_ => (float)rng.NextDouble()).ToArray();
            float[] c = new float[m * N];
            double[] dot = new double[5], packed = new double[5];
            fixed (float* pa = a, pc = c)
            {
                GemmRowDot.Run(pa, m, matrix, null, pc, context);
                GemmPacked.Run(pa, m, matrix, null, pc, context);
                for (int r = 0; r < 5; r++)
                {
                    var sw = Stopwatch.StartNew();
                    GemmRowDot.Run(pa, m, matrix, null, pc, context);
                    dot[r] = sw.Elapsed.TotalMilliseconds;
                    sw.Restart();
                    GemmPacked.Run(pa, m, matrix, null, pc, context);
                    packed[r] = sw.Elapsed.TotalMilliseconds;
                }
            }
            Array.Sort(dot);
            Array.Sort(packed);
            Console.WriteLine($"M={m,3}: row-dot {dot[2],8:F2} ms   packed {packed[2],8:F2} ms");
        }
        NativeMemory.AlignedFree(w);
    }
}
