using System.Globalization;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// Stopwatch-based quick modes: <c>gemm-quick [threads=2] [reps=5] [filter]</c> (<c>gemm-cold</c>: the same with
/// the weights evicted from the caches before every timed call, as the model sees them) and <c>attention-quick [threads=2] [reps=3] [filter]</c>
/// (each prints the peak probe measured in the same run and a table of medians); the probes <c>threshold-probe</c>,
/// <c>bandwidth-probe</c>, <c>kernel-probe</c>, <c>attention-probe</c>, <c>gelu-probe</c>, <c>pack-probe</c>; and, in a build made by
/// <c>bench/ab.sh</c>, the interleaved A/B modes <c>gemm-ab</c> and <c>attention-ab</c>; in a build made by
/// <c>bench/gemm_calls.sh</c>, <c>gemm-calls</c> (per-call micro-kernel timing); <c>gemm-int8 [threads] [reps] [filter]</c>
/// (<c>gemm-int8-cold</c>: cold weights) times bf16 and int8 at every model shape in one run (see <see cref="Int8Mode"/>);
/// <c>int8-drift MODEL_DIR</c> prints the fp32-vs-int8 drift table (see <see cref="Int8DriftProbe"/>).
/// </summary>
public static class QuickMode
{
    public static bool TryRun(string[] args)
    {
        string mode = args[0];
        if (mode == "threshold-probe")
        {
            ThresholdProbe.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2);
            return true;
        }
        if (mode == "bandwidth-probe")
        {
            BandwidthProbe.Run(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture));
            return true;
        }
#if AB_BASELINE
        if (mode is "gemm-ab" or "gemm-cold-ab" or "attention-ab")
        {
            int rounds = int.Parse(args[1], CultureInfo.InvariantCulture);
            int abThreads = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2;
            string abFilter = args.Length > 3 ? args[3] : "";
            if (mode is "gemm-ab" or "gemm-cold-ab")
            {
                GemmAb.Run(rounds, abThreads, abFilter, coldWeights: mode == "gemm-cold-ab");
            }
            else
            {
                AttentionAb.Run(rounds, abThreads, abFilter);
            }
            return true;
        }
#endif
#if GEMM_CALL_TIMING
        if (mode == "gemm-calls")
        {
            GemmCallsProbe.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 1,
                args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3, args.Length > 3 ? args[3] : "");
            return true;
        }
#endif
        if (mode == "attention-probe")
        {
            AttentionProbe.Run(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture),
                args.Length > 3 ? args[3] : "none");
            return true;
        }
        if (mode == "decode-probe")
        {
            DecodeProbe.Run(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2);
            return true;
        }
        if (mode == "pack-probe")
        {
            PackProbe.Run();
            return true;
        }
        if (mode == "gelu-probe")
        {
            GeluProbe.Run();
            return true;
        }
        if (mode == "kernel-probe")
        {
            KernelProbe.Run(int.Parse(args[1], CultureInfo.InvariantCulture), int.Parse(args[2], CultureInfo.InvariantCulture));
            return true;
        }
        if (mode == "int8-drift")
        {
            Int8DriftProbe.Run(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2,
                args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 8, args.Length > 4 ? args[4] : "bench/int8/labelled.jsonl");
            return true;
        }
        if (mode is "gemm-int8" or "gemm-int8-cold")
        {
            Int8Mode.Run(args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2,
                args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5, args.Length > 3 ? args[3] : "", cold: mode == "gemm-int8-cold");
            return true;
        }
        if (mode is not ("gemm-quick" or "gemm-cold" or "attention-quick" or "attention-int8" or "peak"))
        {
            return false;
        }
        int threads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 2;
        int reps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : (mode is "gemm-quick" or "gemm-cold" ? 5 : 3);
        string filter = args.Length > 3 ? args[3] : "";
        var context = new ComputeContext(threads);
        PeakMeasurement peak = PeakProbe.Measure(context);
        if (mode == "peak")
        {
            Console.WriteLine(Header(threads, reps, peak, peak, peak));
        }
        else if (mode is "gemm-quick" or "gemm-cold")
        {
            bool cold = mode == "gemm-cold";
            var timings = GemmBenchmark.Run(GemmShape.ModelShapes.Where(s => s.Name.Contains(filter, StringComparison.Ordinal)), context, peak, reps,
                coldWeights: cold);
            var (best, after) = ProbeAgain(context, peak);
            Console.WriteLine(Header(threads, reps, best, peak, after) + (cold ? "  weights evicted from the caches before every call" : ""));
            Console.WriteLine($"{"shape",-24} {"M",6} {"K",6} {"N",7} {"median ms",10} {"GFLOP/s",8} {"% peak",7} {"W GB/s",7} {"GF/CPU-s",8} {"% cpu-peak",10}");
            foreach (GemmTiming t in timings)
            {
                Console.WriteLine($"{t.Shape.Name,-24} {t.Shape.M,6} {t.Shape.K,6} {t.Shape.N,7} {t.MedianSeconds * 1e3,10:F2} {t.Gflops,8:F1} {t.Gflops / best.WallGflops * 100,6:F1}% {t.WeightGBps,7:F1} {t.CpuGflops,8:F1} {t.CpuGflops / best.CpuGflops * 100,9:F1}%");
            }
        }
        else
        {
            bool int8 = mode == "attention-int8";
            if (int8)
            {
                peak = VnniPeakProbe.Measure(context); // GOP/s against the vpdpbusd peak
            }
            var timings = AttentionBenchmark.Run(AttentionShape.ModelShapes.Where(s => s.Name.Contains(filter, StringComparison.Ordinal)), context, peak, reps,
                int8: int8);
            var (best, after) = int8 ? (peak, peak) : ProbeAgain(context, peak);
            Console.WriteLine(Header(threads, reps, best, peak, after) + (int8 ? "  int8 attention: GOP/s against the AVX-VNNI peak" : ""));
            Console.WriteLine($"{"shape",-28} {"median ms",10} {"GFLOP/s",8} {"% peak",7} {"% cpu-peak",10}");
            foreach (AttentionTiming t in timings)
            {
                Console.WriteLine($"{t.Shape.Name,-28} {t.MedianSeconds * 1e3,10:F2} {t.Gflops,8:F1} {t.Gflops / best.WallGflops * 100,6:F1}% {t.CpuGflops / best.CpuGflops * 100,9:F1}%");
            }
        }
        return true;
    }

    /// <summary>
    /// The peak is probed before and after the table and the higher reading is the reference (as <c>llamaguard bench</c>
    /// does end to end): on a shared host one probe may run during a neighbour's burst (readings at half the usual rate
    /// were seen), which would inflate every percentage of the table.
    /// </summary>
    private static (PeakMeasurement Best, PeakMeasurement After) ProbeAgain(ComputeContext context, PeakMeasurement before)
    {
        PeakMeasurement after = PeakProbe.Measure(context);
        return (after.WallGflops > before.WallGflops ? after : before, after);
    }

    private static string Header(int threads, int reps, PeakMeasurement best, PeakMeasurement before, PeakMeasurement after) =>
        $"# {DateTime.UtcNow:u}  threads={threads}  reps={reps}  peak probe (Vector512 FMA, {threads} threads) = {best.WallGflops:F1} GFLOP/s wall, "
        + $"{best.CpuGflops:F1} GFLOP per CPU-s (before {before.WallGflops:F0}, after {after.WallGflops:F0})  cpu: {LlamaGuardSharp.Diagnostics.HostCpu.Current()}";
}
