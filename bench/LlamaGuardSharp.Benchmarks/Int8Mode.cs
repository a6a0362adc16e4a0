using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// <c>gemm-int8 [threads=2] [reps=5] [filter]</c>: every model GEMM shape timed with bf16 weights (fp32 path) and with the
/// same weights quantized to int8 (AVX-VNNI path, activation quantization included), in one run, shape by shape, so the
/// speedups compare like with like on a shared machine. Prints both peak probes (FMA and <c>vpdpbusd</c>), each probed
/// before and after the table (the higher reading is the reference), and each path's share of its own peak (wall clock, and for int8 also per CPU-second of this process).
/// </summary>
internal static class Int8Mode
{
    public static void Run(int threads, int reps, string filter, bool cold)
    {
        var context = new ComputeContext(threads);
        PeakMeasurement fma = PeakProbe.Measure(context), vnni = VnniPeakProbe.Measure(context);
        var shapes = GemmShape.ModelShapes.Where(s => s.Name.Contains(filter, StringComparison.Ordinal)).ToList();
        var rows = new List<(GemmTiming Bf16, GemmTiming Int8)>();
        foreach (GemmShape shape in shapes)
        {
            GemmTiming bf16 = GemmBenchmark.Run([shape], context, fma, reps, coldWeights: cold)[0];
            GemmTiming int8 = GemmBenchmark.Run([shape], context, vnni, reps, coldWeights: cold, int8: true)[0];
            rows.Add((bf16, int8));
        }
        PeakMeasurement fmaAfter = PeakProbe.Measure(context), vnniAfter = VnniPeakProbe.Measure(context);
        double fmaPeak = Math.Max(fma.WallGflops, fmaAfter.WallGflops), vnniPeak = Math.Max(vnni.WallGflops, vnniAfter.WallGflops);
        // Per CPU-second: the kernel's efficiency while scheduled, the stable figure on a shared machine.
        double vnniCpuPeak = Math.Max(vnni.CpuGflops, vnniAfter.CpuGflops);
        Console.WriteLine($"# {DateTime.UtcNow:u}  threads={threads}  reps={reps}{(cold ? "  cold weights" : "")}  peak FMA (Vector512) = {fmaPeak:F1} GFLOP/s"
            + $" (before {fma.WallGflops:F0}, after {fmaAfter.WallGflops:F0}), peak vpdpbusd (256-bit AVX-VNNI) = {vnniPeak:F1} GOP/s"
            + $" (before {vnni.WallGflops:F0}, after {vnniAfter.WallGflops:F0})  cpu: {LlamaGuardSharp.Diagnostics.HostCpu.Current()}");
        Console.WriteLine($"{"shape",-30} {"M",5} {"K",6} {"N",7} {"bf16 ms",9} {"% FMA",6} {"int8 ms",9} {"GOP/s",7} {"% VNNI",7} {"W GB/s",7} {"% VNNI/CPU-s",12} {"speedup",8}");
        foreach (var (bf16, int8) in rows)
        {
            GemmShape s = bf16.Shape;
            Console.WriteLine($"{s.Name,-30} {s.M,5} {s.K,6} {s.N,7} {bf16.MedianSeconds * 1e3,9:F2} {bf16.Gflops / fmaPeak * 100,5:F1}% "
                + $"{int8.MedianSeconds * 1e3,9:F2} {int8.Gflops,7:F1} {int8.Gflops / vnniPeak * 100,6:F1}% {int8.WeightGBps,7:F1} {int8.CpuGflops / vnniCpuPeak * 100,11:F1}% {bf16.MedianSeconds / int8.MedianSeconds,7:F2}×");
        }
    }
}
