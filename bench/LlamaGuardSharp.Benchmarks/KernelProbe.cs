using System.Diagnostics;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary><c>kernel-probe [kc]</c>: the 14×32 micro-kernel alone: one A panel swept over <panels> B panels (kc=512, 16 panels = 1 MiB: L2) (upper bound for the GEMM).</summary>
public static unsafe class KernelProbe
{
    public static void Run(int kc, int panels)
    {
        float* a = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(kc * 14 * panels * 4), 64);
        float* b = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(kc * 32 * 4 * panels), 64);
        float* c = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(14 * 32 * 4 * panels), 64);
        for (int i = 0; i < kc * 14 * panels; i++) a[i] = 0.001f * (i % 7);
        for (int i = 0; i < kc * 32 * panels; i++) b[i] = 0.001f * (i % 5);
        using var process = Process.GetCurrentProcess();
        for (int rep = 0; rep < 5; rep++)
        {
            int calls = 200_000_000 / (kc * 14 * 32) * 10;
            process.Refresh();
            TimeSpan cpu0 = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < calls; i++)
            {
                int p = i % panels;
                // As in the GEMM: one A micro-panel (L1) against a sweep of B micro-panels (L2 when panels × kc × 128 B > L1).
                GemmMicroKernel.Kernel14x32(a + (long)(i / panels % panels) * kc * 14, b + (long)p * kc * 32, kc, c + p * 14 * 32, 32, true, null);
            }
            double s = sw.Elapsed.TotalSeconds;
            process.Refresh();
            double cpu = (process.TotalProcessorTime - cpu0).TotalSeconds;
            double gf = 2.0 * kc * 14 * 32 * calls / 1e9;
            Console.WriteLine($"kc={kc} panels={panels}: {gf / s:F1} GFLOP/s wall, {gf / cpu:F1} GFLOP/CPU-s");
        }
    }
}
