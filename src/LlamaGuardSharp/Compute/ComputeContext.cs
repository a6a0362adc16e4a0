namespace LlamaGuardSharp.Compute;

/// <summary>
/// How much parallelism the kernels may use. Passed explicitly (no static state) so two models in one process
/// can run with different settings. Kernels must give bit-identical results for every <see cref="Threads"/> value:
/// work is split so that each output element is always reduced in the same order.
/// </summary>
internal sealed class ComputeContext
{
    /// <param name="threads">Worker threads (0 = every logical processor).</param>
    /// <param name="profile">When given, every kernel call adds its wall time to it (see <see cref="KernelProfile"/>).</param>
    public ComputeContext(int threads = 0, KernelProfile? profile = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        Threads = threads == 0 ? Environment.ProcessorCount : threads;
        Profile = profile;
    }

    /// <summary>The per-kernel timing sink, or null (the default: no timing).</summary>
    public KernelProfile? Profile { get; }

    /// <summary>Pack buffers and score tiles reused across kernel calls (no allocations in the steady state).</summary>
    internal ScratchPool Scratch { get; } = new();

    /// <summary>Number of worker threads (1 = run on the calling thread).</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="body"/> for every index in [0, count), spread over <see cref="Threads"/> threads.</summary>
    public void For(int count, Action<int> body)
    {
        if (RanSequentially(count, body))
        {
            return;
        }
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Threads }, body);
    }

    /// <summary>
    /// Like <see cref="For"/>, but items are *started* in index order (the threads take indices from one shared
    /// counter). So an item may wait for an item with a lower index to finish (e.g. a GEMM block for the packing of
    /// its panels): that item has already been started by a running thread, and waits only on lower indices itself,
    /// so the wait always ends.
    /// </summary>
    public void ForOrdered(int count, Action<int> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (RanSequentially(count, body))
        {
            return;
        }
        int next = -1, workers = Math.Min(Threads, count);
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, _ =>
        {
            for (int i = Interlocked.Increment(ref next); i < count; i = Interlocked.Increment(ref next))
            {
                body(i);
            }
        });
    }

    /// <summary>Nothing to do, one thread or one item: runs the items in order on the calling thread and returns true.</summary>
    private bool RanSequentially(int count, Action<int> body)
    {
        if (count > 0 && Threads > 1 && count > 1)
        {
            return false;
        }
        for (int i = 0; i < count; i++)
        {
            body(i);
        }
        return true;
    }
}
