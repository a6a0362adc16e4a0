#if GEMM_CALL_TIMING
using System.Globalization;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// <c>gemm-calls [threads=1] [reps=3] [filter]</c>, in the build made by <c>bench/gemm_calls.sh</c>: for each model
/// GEMM shape, the micro-kernel calls' mean time per class (see GemmCallTiming) next to the ideal call time at the
/// peak probe's per-core rate, and how much of the GEMM's kernel time each class spends above that ideal.
/// </summary>
public static class GemmCallsProbe
{
    public static void Run(int threads, int reps, string filter)
    {
        var context = new ComputeContext(threads);
        var single = new ComputeContext(1);
        double corePeak = PeakProbe.Measure(single).CpuGflops;
        Console.WriteLine($"# {DateTime.UtcNow:u}  threads={threads}  reps={reps}  peak probe per core = {corePeak:F1} GFLOP per CPU-s");
        foreach (GemmShape shape in GemmShape.ModelShapes.Where(s => s.M >= 10 && s.Name.Contains(filter, StringComparison.Ordinal)))
        {
            GemmCallTiming.Reset();
            GemmTiming timing = GemmBenchmark.Run([shape], context, PeakProbe.Measure(context), reps)[0];
            var classes = GemmCallTiming.Snapshot();
            // K blocks as GemmPacked splits them: near-equal, at most 768, multiples of 16.
            int kBlocks = (shape.K + 767) / 768, kc = Math.Min(shape.K, ((shape.K + kBlocks - 1) / kBlocks + 15) & ~15);
            double idealUs = 2.0 * 14 * 32 * kc / (corePeak * 1e9) * 1e6;
            double kernelSeconds = classes.Take(GemmCallTiming.Classes).Sum(c => c.Seconds);
            Console.WriteLine($"{shape.Name} (M {shape.M}, K {shape.K}, N {shape.N}, kc {kc}): median {timing.MedianSeconds * 1e3:F1} ms, " +
                $"{timing.CpuFractionOfPeak * 100:F1} % of the CPU-time peak; ideal call {idealUs:F2} µs; full-tile calls take " +
                $"{kernelSeconds / (reps + 1) / (timing.MedianSeconds * threads) * 100:F1} % of the threads' time");
            double perCall = 1.0 / (reps + 1); // the warm-up call is counted too
            Console.WriteLine($"   per GEMM: full-tile kernel calls {kernelSeconds * perCall * 1e3:F1} ms, packing A {classes[GemmCallTiming.PackA].Seconds * perCall * 1e3:F1} ms, " +
                $"packing B {classes[GemmCallTiming.PackB].Seconds * perCall * 1e3:F1} ms, in Macro {classes[GemmCallTiming.Macro].Seconds * perCall * 1e3:F1} ms, " +
                $"of which short-panel calls {classes[GemmCallTiming.ShortPanel].Seconds * perCall * 1e3:F1} ms ({classes[GemmCallTiming.ShortPanel].Calls} calls), " +
                $"waiting {classes[GemmCallTiming.Wait].Seconds * perCall * 1e3:F1} ms ({classes[GemmCallTiming.Wait].Calls} waits) (summed over threads)");
            for (int i = 0; i < GemmCallTiming.Classes; i++)
            {
                (long calls, double seconds) = classes[i];
                if (calls == 0)
                {
                    continue;
                }
                double mean = seconds / calls * 1e6, excess = Math.Max(0, seconds - calls * idealUs * 1e-6);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"   first K block {(i & 4) != 0,-5}  first sweep {(i & 2) != 0,-5}  first call {(i & 1) != 0,-5}  calls {calls,8}  mean {mean,6:F2} µs  ({mean / idealUs,4:F2}× ideal, {excess / kernelSeconds * 100,4:F1} % of kernel time above it)"));
            }
        }
    }
}
#endif
