using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Compute;

public class ComputeContextTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void ForOrdered_RunsEveryItemOnce_AndItemsMayWaitForLowerIndices(int threads)
    {
        var context = new ComputeContext(threads);
        const int count = 500;
        int[] runs = new int[count];
        int[] done = new int[count];
        context.ForOrdered(count, i =>
        {
            // Every odd item waits for the item before it: safe only because items start in index order.
            if (i % 2 == 1)
            {
                // A deadline turns a scheduling bug (an item waiting on one that never starts) into a failure, not a hang.
                var spinner = new SpinWait();
                long deadline = Environment.TickCount64 + 10_000;
                while (Volatile.Read(ref done[i - 1]) == 0)
                {
                    if (Environment.TickCount64 > deadline)
                    {
                        throw new TimeoutException($"item {i} waited 10 s for item {i - 1}");
                    }
                    spinner.SpinOnce();
                }
            }
            Interlocked.Increment(ref runs[i]);
            Volatile.Write(ref done[i], 1);
        });
        Assert.All(runs, r => Assert.Equal(1, r));
    }

    [Fact]
    public void ForOrdered_IgnoresEmptyRanges_AndRejectsNullBodies()
    {
        var context = new ComputeContext(2);
        context.ForOrdered(0, _ => throw new InvalidOperationException("must not run"));
        Assert.Throws<ArgumentNullException>(() => context.ForOrdered(3, null!));
    }
}
