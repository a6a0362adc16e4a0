using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Checkpoints;

/// <summary>
/// Reads memory-mapped weights into the OS page cache ahead of use, on a background thread started after loading, in the
/// order a classification first reads them: per 8 MB chunk, <c>madvise(MADV_WILLNEED)</c> (Linux: asynchronous
/// readahead with a deep queue) and then one read per page, which waits for the chunk and marks its pages referenced.
/// </summary>
/// <remarks>
/// Why: without readahead a cold first classification waits on one 8 MB readahead window after another; with it, the
/// text weights arrive while the vision encoder runs, and the first classification is as fast as a warm one. Reading
/// one byte per page, not the hint alone, matters: it marks the pages referenced, so reclaim does not evict the
/// prefetched text weights again while the activations grow. It costs the background thread well under a second when
/// everything is cached already, and takes the mapping's first-touch minor faults off the compute threads (figures and
/// the variants tried: docs/performance-log.md).
/// </remarks>
internal static unsafe class WeightPrefetcher
{
    /// <summary>Readahead is requested in pieces of this size, so cancellation (model disposal) is prompt.</summary>
    private const long ChunkBytes = 8L << 20;

    /// <summary>Whether the platform has the hint (Linux).</summary>
    public static bool IsSupported => MemoryAdvice.IsSupported;

    /// <summary>
    /// Whether prefetching <paramref name="bytes"/> of weights is sensible here: they must fit in physical memory next to
    /// the activations (≈ 2.5 GB), or the readahead would evict pages a running classification still needs.
    /// </summary>
    public static bool Fits(long bytes, long physicalMemory) => bytes + (5L << 29) <= physicalMemory;

    /// <summary>Starts the background readahead of <paramref name="matrices"/>, in order; the task ends when all are read (or on cancellation).</summary>
    public static Task Start(IReadOnlyList<WeightMatrix> matrices, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Run(matrices, cancellationToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static void Run(IReadOnlyList<WeightMatrix> matrices, CancellationToken cancellationToken)
    {
        long page = Environment.SystemPageSize;
        foreach (WeightMatrix m in matrices)
        {
            byte* start = (byte*)m.Data;
            long bytes = (long)m.Rows * m.Cols * m.ElementSize;
            for (long offset = 0; offset < bytes; offset += ChunkBytes)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                nint begin = (nint)(start + offset) & ~(nint)(page - 1);
                nint end = (nint)(start + Math.Min(bytes, offset + ChunkBytes));
                // Errors (e.g. a matrix in pinned managed memory in tests) only mean no readahead: ignored.
                MemoryAdvice.WillNeed(begin, (nuint)(end - begin));
                // Then read one byte per page: waits for the chunk, and marks its pages referenced, so that reclaim
                // (the checkpoint is 86 % of this machine's memory) does not take prefetched, not yet used pages first.
                for (nint p = begin; p < end; p += (nint)page)
                {
                    _ = Volatile.Read(ref *(byte*)p); // a volatile read is never optimised away
                }
            }
        }
    }
}
