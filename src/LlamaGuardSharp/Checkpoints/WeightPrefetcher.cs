using System.Runtime.InteropServices;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Checkpoints;

/// <summary>
/// Reads memory-mapped weights into the OS page cache a little ahead of their first use (Linux
/// <c>madvise(MADV_WILLNEED)</c>), on a background thread: the GEMM calls report each weight they reach
/// (<see cref="ComputeContext.WeightUse"/>), and the prefetcher keeps the readahead <see cref="Lookahead"/> bytes ahead
/// of the furthest weight used so far, in the order a classification first reads them. Each weight is requested once
/// per model; afterwards the prefetcher unsubscribes and costs nothing.
/// </summary>
/// <remarks>
/// Why a window and not everything at once: on the 24 GB machine the 21.35 GB checkpoint fills the page cache, and
/// readahead of all of it right after loading (tried first, 2026-11-28) put the not-yet-used text weights on the
/// inactive list, where reclaim evicted them again while the vision encoder ran: the first classification still took
/// 167 s with 714 major faults. Without any readahead the first classification reads the weights by page faults as the
/// kernels reach them (text prefill 61–70 s instead of 30–37 s warm), although the disk delivers ≈ 1.2 GB/s to
/// WILLNEED readahead (measured: 19 GB in 16 s) against ≈ 0.55 GB/s the prefill consumes.
/// </remarks>
internal sealed unsafe partial class WeightPrefetcher : IDisposable
{
    /// <summary>How far ahead of the furthest weight in use the readahead runs: ≈ 5 text layers, or the rest of the vision encoder.</summary>
    public const long Lookahead = 2L << 30;

    private const int MadvWillNeed = 3;

    /// <summary>Readahead is requested in pieces of this size (the kernel caps one request near the device's readahead window).</summary>
    private const long ChunkBytes = 8L << 20;

    private readonly WeightMatrix[] _order;
    private readonly Dictionary<WeightMatrix, int> _index;
    private readonly long[] _end; // bytes of matrices [0, i] together
    private readonly ComputeContext _context;
    private readonly Action<WeightMatrix> _onUse;
    private readonly SemaphoreSlim _progress = new(0);
    private readonly CancellationTokenSource _cancel = new();
    private readonly Task _task;
    private long _used; // _end of the furthest matrix reported so far (0: none)

    private WeightPrefetcher(IReadOnlyList<WeightMatrix> order, ComputeContext context)
    {
        _order = [.. order];
        _index = new Dictionary<WeightMatrix, int>(ReferenceEqualityComparer.Instance);
        _end = new long[_order.Length];
        long total = 0;
        for (int i = 0; i < _order.Length; i++)
        {
            _index.TryAdd(_order[i], i);
            total += Bytes(_order[i]);
            _end[i] = total;
        }
        _context = context;
        _onUse = OnUse;
        context.WeightUse = _onUse;
        _task = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Whether the platform has the hint (Linux).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>The background task (ends once every weight is requested, or on <see cref="Dispose"/>).</summary>
    public Task Completion => _task;

    /// <summary>
    /// Starts prefetching <paramref name="order"/> (the model's weights in use order) as the GEMMs of
    /// <paramref name="context"/> reach them; the first <see cref="Lookahead"/> bytes are requested at once.
    /// </summary>
    public static WeightPrefetcher Start(IReadOnlyList<WeightMatrix> order, ComputeContext context)
    {
        ArgumentNullException.ThrowIfNull(order);
        ArgumentNullException.ThrowIfNull(context);
        return new WeightPrefetcher(order, context);
    }

    /// <summary>Stops the readahead (returns within one chunk) and unsubscribes; call before unmapping the weights.</summary>
    public void Dispose()
    {
        _cancel.Cancel();
        _task.Wait();
        Unsubscribe();
        _cancel.Dispose();
        _progress.Dispose();
    }

    /// <summary>Called by the GEMM entry points with each weight they multiply.</summary>
    private void OnUse(WeightMatrix w)
    {
        if (!_index.TryGetValue(w, out int i))
        {
            return;
        }
        long end = _end[i], seen = Volatile.Read(ref _used);
        while (end > seen)
        {
            long previous = Interlocked.CompareExchange(ref _used, end, seen);
            if (previous == seen)
            {
                _progress.Release();
                return;
            }
            seen = previous;
        }
    }

    private void Run()
    {
        CancellationToken token = _cancel.Token;
        long page = Environment.SystemPageSize;
        try
        {
            for (int next = 0; next < _order.Length; next++)
            {
                long start = next == 0 ? 0 : _end[next - 1];
                while (start >= Volatile.Read(ref _used) + Lookahead)
                {
                    _progress.Wait(token);
                }
                WeightMatrix m = _order[next];
                byte* data = (byte*)m.Data;
                long bytes = Bytes(m);
                for (long offset = 0; offset < bytes; offset += ChunkBytes)
                {
                    token.ThrowIfCancellationRequested();
                    nint begin = (nint)(data + offset) & ~(nint)(page - 1);
                    nint stop = (nint)(data + Math.Min(bytes, offset + ChunkBytes));
                    // Errors (e.g. a matrix in pinned managed memory, in tests) only mean no readahead: ignored.
                    _ = Madvise(begin, (nuint)(stop - begin), MadvWillNeed);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Disposed: stop quietly.
        }
        finally
        {
            Unsubscribe();
        }
    }

    private void Unsubscribe() => Interlocked.CompareExchange(ref _context.WeightUseField, null, _onUse);

    private static long Bytes(WeightMatrix m) => (long)m.Rows * m.Cols * m.ElementSize;

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
