using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// Shared BenchmarkDotNet config for the kernel suites: one invocation per iteration (calls take milliseconds to
/// seconds), 1 warm-up + 5 measured iterations, plus GFLOP/s and "% of peak" columns. The peak is
/// <see cref="PeakProbe"/> (register-only Vector512 FMA loop, 2 threads) measured once in the host process at the start
/// of the run; on a machine whose load changes during the run the "% peak" column can exceed 100 % — prefer the
/// quick modes' per-shape CPU-time normalisation there.
/// </summary>
public sealed class KernelConfig : ManualConfig
{
    public KernelConfig()
    {
        AddJob(Job.Default.WithWarmupCount(1).WithIterationCount(5).WithInvocationCount(1).WithUnrollFactor(1));
        AddColumn(new FlopsColumn(percentOfPeak: false), new FlopsColumn(percentOfPeak: true));
        FlopsColumn.MeasurePeakNow(); // at the start of the run (host process), not when the summary is printed
    }
}

/// <summary>A benchmark class that knows how many FLOPs one call of a case performs.</summary>
public interface IFlopCounter
{
    double FlopsFor(BenchmarkCase benchmarkCase);
}

/// <summary>GFLOP/s from the median time, or that figure as a percentage of the peak probe.</summary>
public sealed class FlopsColumn(bool percentOfPeak) : IColumn
{
    private static readonly Lazy<double> Peak = new(() => PeakProbe.MeasureGflops(new ComputeContext(2)));

    /// <summary>Forces the peak probe to run now (the config is built before any benchmark runs).</summary>
    public static double MeasurePeakNow() => Peak.Value;

    public string Id => percentOfPeak ? "PercentOfPeak" : "Gflops";

    public string ColumnName => percentOfPeak ? "% peak" : "GFLOP/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => percentOfPeak ? 1 : 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => percentOfPeak
        ? "GFLOP/s as a percentage of the Vector512 FMA peak probe (2 threads) measured in this run"
        : "Billions of floating-point operations per second (multiply-add = 2) from the median time";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is null || Activator.CreateInstance(benchmarkCase.Descriptor.Type) is not IFlopCounter counter)
        {
            return "-";
        }
        double gflops = counter.FlopsFor(benchmarkCase) / report.ResultStatistics.Median; // FLOP per ns = GFLOP/s
        return percentOfPeak ? $"{100 * gflops / Peak.Value:F1}%" : $"{gflops:F1}";
    }
}
