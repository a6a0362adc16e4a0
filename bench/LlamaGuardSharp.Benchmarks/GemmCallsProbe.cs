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
        var profile = new KernelProfile(); // counts the GEMM calls, warm-up included (GemmBenchmark decides how many)
        var context = new ComputeContext(threads, profile);
        var single = new ComputeContext(1);
        double corePeak = PeakProbe.Measure(single).CpuGflops;
        Console.WriteLine($"# {DateTime.UtcNow:u}  threads={threads}  reps={reps}  peak probe per core = {corePeak:F1} GFLOP per CPU-s");
        var shapes = GemmShape.ModelShapes.Where(s => s.M >= 10).Select(s => (Shape: s, Gelu: false))
            .Append((Shape: GemmShape.ModelShapes.Single(s => s.Name == "vision fc2") with { Name = "vision fc2 (GELU of A)" }, Gelu: true))
            .Where(s => s.Shape.Name.Contains(filter, StringComparison.Ordinal));
        foreach ((GemmShape shape, bool gelu) in shapes)
        {
            GemmCallTiming.Reset();
            profile.Clear();
            GemmTiming timing = gelu ? TimeGelu(shape, context, reps) : GemmBenchmark.Run([shape], context, PeakProbe.Measure(context), reps)[0];
            var classes = GemmCallTiming.Snapshot();
            // K blocks as GemmPacked splits them: near-equal, at most KBlock, multiples of 16.
            int kBlocks = (shape.K + GemmPacked.KBlock - 1) / GemmPacked.KBlock, kc = Math.Min(shape.K, ((shape.K + kBlocks - 1) / kBlocks + 15) & ~15);
            double idealUs = 2.0 * 14 * 32 * kc / (corePeak * 1e9) * 1e6;
            double kernelSeconds = classes.Take(GemmCallTiming.Classes).Sum(c => c.Seconds);
            // TimeGelu calls GemmPacked directly (not profiled): one warm-up call and the repetitions.
            long gemmCalls = gelu ? reps + 1 : profile.Entries.Where(e => e.Kernel == "gemm").Sum(e => e.Calls);
            Console.WriteLine($"{shape.Name} (M {shape.M}, K {shape.K}, N {shape.N}, kc {kc}): median {timing.MedianSeconds * 1e3:F1} ms, " +
                (double.IsNaN(timing.CpuFractionOfPeak) ? "CPU time not measured" : $"{timing.CpuFractionOfPeak * 100:F1} % of the CPU-time peak") + $"; ideal call {idealUs:F2} µs; full-tile calls take " +
                $"{kernelSeconds / gemmCalls / (timing.MedianSeconds * threads) * 100:F1} % of the threads' time");
            double perCall = 1.0 / gemmCalls; // the warm-up calls are counted too
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

    /// <summary>The model's fc2: GELU applied to A while it is packed (GemmBenchmark times plain GEMMs only).</summary>
    private static unsafe GemmTiming TimeGelu(GemmShape shape, ComputeContext context, int reps)
    {
        var rng = new Random(1234);
        long count = (long)shape.N * shape.K;
        ushort[] bits = new ushort[count];
        for (long i = 0; i < count; i++)
        {
            bits[i] = (ushort)(0x3C00 + rng.Next(0x200));
        }
        var w = WeightMatrix.FromBf16(bits, shape.N, shape.K);
        float[] a = new float[(long)shape.M * shape.K], c = new float[(long)shape.M * shape.N];
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = (float)(rng.NextDouble() * 4 - 2);
        }
        var seconds = new double[reps];
        fixed (float* pa = a, pc = c)
        {
            GemmPacked.Run(pa, shape.M, w, null, pc, context, geluOfA: true);
            for (int r = 0; r < reps; r++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                GemmPacked.Run(pa, shape.M, w, null, pc, context, geluOfA: true);
                seconds[r] = sw.Elapsed.TotalSeconds;
            }
        }
        Array.Sort(seconds);
        double median = seconds[reps / 2], gflops = shape.Flops / median / 1e9;
        return new GemmTiming(shape, median, gflops, double.NaN, 0, gflops / context.Threads, double.NaN);
    }
}
#endif
