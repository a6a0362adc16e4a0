using System.Diagnostics;
using System.Runtime.Intrinsics;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// <c>bandwidth-probe [threads] [MiB]</c>: streaming read bandwidth (Vector512 loads summed, both threads on halves of
/// a buffer much larger than the caches): the ceiling for the memory-bound decode GEMV (weight GB/s in gemm-quick).
/// </summary>
public static unsafe class BandwidthProbe
{
    public static void Run(int threads, int mebibytes)
    {
        long floats = (long)mebibytes * 1024 * 1024 / 4;
        float* data = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(floats * 4), 64);
        for (long i = 0; i < floats; i++)
        {
            data[i] = i % 3;
        }
        var context = new ComputeContext(threads);
        nint ptr = (nint)data;
        for (int rep = 0; rep < 5; rep++)
        {
            float[] sums = new float[threads];
            var sw = Stopwatch.StartNew();
            context.For(threads, t =>
            {
                long start = floats / threads * t, end = t == threads - 1 ? floats : start + floats / threads;
                float* p = (float*)ptr;
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (long i = start; i + 64 <= end; i += 64)
                {
                    a0 += Vector512.Load(p + i);
                    a1 += Vector512.Load(p + i + 16);
                    a2 += Vector512.Load(p + i + 32);
                    a3 += Vector512.Load(p + i + 48);
                }
                sums[t] = Vector512.Sum(a0 + a1 + a2 + a3);
            });
            double seconds = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"read {mebibytes} MiB with {threads} threads: {floats * 4 / seconds / 1e9:F1} GB/s (checksum {sums.Sum():E2})");
        }
        System.Runtime.InteropServices.NativeMemory.AlignedFree(data);
    }
}
