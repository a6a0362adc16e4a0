using System.Runtime.InteropServices;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Checkpoints;

/// <summary>
/// Reads memory-mapped weights into the OS page cache ahead of use (Linux <c>madvise(MADV_WILLNEED)</c>), on a background
/// thread, in the order a classification first touches them. Without it the first classification after loading a cold
/// checkpoint reads its 20 GB by page faults as the kernels reach them: measured on the real-size synthetic checkpoint,
/// the text prefill took 64–70 s in the first run instead of 30–37 s (the disk streams ≈ 315 MB/s, so the ≈ 17 GB of
/// text weights can arrive while the ≈ 85 s vision encoder runs). A hint only: it never blocks a classification and
/// does nothing for pages already cached.
/// </summary>
internal static unsafe partial class WeightPrefetcher
{
    private const int MadvWillNeed = 3;

    /// <summary>Readahead is requested in pieces of this size, so cancellation (model disposal) is prompt.</summary>
    private const long ChunkBytes = 8L << 20;

    /// <summary>Whether the platform has the hint (Linux).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>
    /// Whether prefetching <paramref name="bytes"/> of weights is sensible here: they must fit in physical memory next to
    /// the activations (≈ 2.5 GB), or the readahead would evict pages a running classification still needs.
    /// </summary>
    public static bool Fits(long bytes, long physicalMemory) => bytes + (5L << 29) <= physicalMemory;

    /// <summary>Starts the background readahead of <paramref name="matrices"/>, in order; the task ends when all are requested.</summary>
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
                _ = Madvise(begin, (nuint)(end - begin), MadvWillNeed);
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
