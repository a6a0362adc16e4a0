using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Compute;

public class GemmBenchmarkTests
{
    [Fact]
    public void Warms_up_with_several_calls_then_times_the_requested_repetitions()
    {
        var profile = new KernelProfile();
        var context = new ComputeContext(2, profile);
        var shape = new GemmShape("tiny", 20, 64, 48);

        var timing = Assert.Single(GemmBenchmark.Run([shape], context, new PeakMeasurement(100, 50), repetitions: 3));

        // One call is not a warm-up for tiered JIT code: at least 3, at most 40, then exactly the 3 timed calls.
        var gemm = Assert.Single(profile.Entries, e => e.Kernel == "gemm");
        Assert.InRange(gemm.Calls, 3 + 3, 40 + 3);
        Assert.Same(shape, timing.Shape);
        Assert.True(timing.MedianSeconds > 0 && timing.Gflops > 0 && timing.CpuGflops > 0);
        Assert.Equal(timing.Gflops / 100, timing.FractionOfPeak, 1e-12);
    }

    [Fact]
    public void Stops_when_cancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() =>
            GemmBenchmark.Run([new GemmShape("tiny", 20, 64, 48)], new ComputeContext(1), new PeakMeasurement(100, 50), 3, cancelled.Token));
    }
}
