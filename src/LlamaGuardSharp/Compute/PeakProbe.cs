using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Measures the machine's attainable float32 FMA rate: a register-only loop with 12 independent Vector512
/// accumulators (enough to cover FMA latency × 2 ports) on every thread of the context at once. The GEMM benchmarks
/// report their GFLOP/s as a fraction of this figure measured in the same run, which is robust to clock speed and
/// to a noisy, shared machine.
/// </summary>
internal static class PeakProbe
{
    /// <summary>Median GFLOP/s (wall clock) over <paramref name="runs"/> runs of about <paramref name="millisecondsPerRun"/> each.</summary>
    public static double MeasureGflops(ComputeContext context, int runs = 5, int millisecondsPerRun = 100) =>
        Measure(context, runs, millisecondsPerRun).WallGflops;

    /// <summary>
    /// Median wall-clock GFLOP/s and median GFLOP per CPU-second of this process. The second is what a core delivers while
    /// it is actually scheduled, so on a machine shared with other work it is the stable denominator for efficiencies.
    /// </summary>
    public static PeakMeasurement Measure(ComputeContext context, int runs = 5, int millisecondsPerRun = 100) =>
        MeasureLoop(context, iterations => Spin(iterations), FlopsPerIteration, runs, millisecondsPerRun);

    /// <summary>
    /// The measuring harness of the peak probes: calibrates <paramref name="spin"/> (a register-only loop of
    /// <paramref name="operationsPerIteration"/> operations per iteration, returning a value that keeps it alive) on one
    /// thread to about <paramref name="millisecondsPerRun"/>, runs it on every thread of the context at once
    /// <paramref name="runs"/> times, and returns the medians in G operations per second (wall) and per CPU-second.
    /// </summary>
    internal static PeakMeasurement MeasureLoop(ComputeContext context, Func<long, double> spin, double operationsPerIteration,
        int runs, int millisecondsPerRun)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(spin);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(runs);
        // Calibrate the iteration count on one thread so that a run lasts about millisecondsPerRun.
        long iterations = 1 << 16;
        spin(iterations);
        var sw = Stopwatch.StartNew();
        spin(iterations);
        double secondsPerIteration = Math.Max(sw.Elapsed.TotalSeconds, 1e-6) / iterations;
        iterations = Math.Max(1 << 16, (long)(millisecondsPerRun / 1000.0 / secondsPerIteration));
        double[] wall = new double[runs], cpu = new double[runs];
        double sink = 0;
        using var process = Process.GetCurrentProcess();
        for (int r = 0; r < runs; r++)
        {
            double[] sinks = new double[context.Threads];
            process.Refresh();
            TimeSpan cpu0 = process.TotalProcessorTime;
            sw.Restart();
            context.For(context.Threads, t => sinks[t] = spin(iterations));
            double seconds = sw.Elapsed.TotalSeconds;
            process.Refresh();
            double cpuSeconds = (process.TotalProcessorTime - cpu0).TotalSeconds;
            sink += sinks.Sum();
            double gops = context.Threads * iterations * operationsPerIteration / 1e9;
            wall[r] = gops / seconds;
            cpu[r] = gops / Math.Max(cpuSeconds, 1e-3);
        }
        GC.KeepAlive(sink);
        Array.Sort(wall);
        Array.Sort(cpu);
        return new PeakMeasurement(wall[runs / 2], cpu[runs / 2]);
    }

    private const int FlopsPerIteration = 12 * 16 * 2;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Spin(long iterations)
    {
        Vector512<float> m = Vector512.Create(0.999999f), x = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0 + x, a2 = a1 + x, a3 = a2 + x, a4 = a3 + x, a5 = a4 + x;
        Vector512<float> a6 = a5 + x, a7 = a6 + x, a8 = a7 + x, a9 = a8 + x, a10 = a9 + x, a11 = a10 + x;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, x);
            a1 = Vector512.FusedMultiplyAdd(a1, m, x);
            a2 = Vector512.FusedMultiplyAdd(a2, m, x);
            a3 = Vector512.FusedMultiplyAdd(a3, m, x);
            a4 = Vector512.FusedMultiplyAdd(a4, m, x);
            a5 = Vector512.FusedMultiplyAdd(a5, m, x);
            a6 = Vector512.FusedMultiplyAdd(a6, m, x);
            a7 = Vector512.FusedMultiplyAdd(a7, m, x);
            a8 = Vector512.FusedMultiplyAdd(a8, m, x);
            a9 = Vector512.FusedMultiplyAdd(a9, m, x);
            a10 = Vector512.FusedMultiplyAdd(a10, m, x);
            a11 = Vector512.FusedMultiplyAdd(a11, m, x);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}

/// <summary>Peak probe result: wall-clock GFLOP/s with all threads, and GFLOP per CPU-second (per scheduled core).</summary>
internal sealed record PeakMeasurement(double WallGflops, double CpuGflops);
