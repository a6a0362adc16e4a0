using System.Diagnostics;

namespace LlamaGuardSharp.Server;

/// <summary>
/// One classification request runs at a time (each uses every core); up to <see cref="MaxQueue"/> more wait in
/// arrival order; beyond that a request is refused at once (429) with a <c>Retry-After</c> estimated from recent
/// service times. A waiting or running request ends early when its token fires (client gone, deadline, drain timeout):
/// a cancelled waiter leaves the queue without running.
/// </summary>
/// <remarks>
/// Invariants, under <c>_lock</c>: <c>0 ≤ running ≤ 1</c> and <c>waiting + running ≤ MaxQueue + 1</c> (a request is
/// admitted only while the sum is at most <c>MaxQueue</c>; a waiter counts as waiting until it holds the gate).
/// </remarks>
internal sealed class ClassificationQueue(LlamaGuardServiceOptions options)
{
    /// <summary>Weight of the newest service time in the moving average behind <c>Retry-After</c>.</summary>
    private const double ServiceTimeSmoothing = 0.2;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _lock = new();
    private int _waiting;
    private int _running;
    private double _meanServiceSeconds = double.NaN;

    public int MaxQueue { get; } = options.MaxQueue;

    /// <summary>Requests waiting or running.</summary>
    public int Depth
    {
        get
        {
            lock (_lock)
            {
                return _waiting + _running;
            }
        }
    }

    /// <summary>True when a new request would be refused.</summary>
    public bool IsFull
    {
        get
        {
            lock (_lock)
            {
                return _waiting + _running > MaxQueue;
            }
        }
    }

    /// <summary>Seconds a refused client should wait: about one mean service time (when the running request ends a
    /// place frees up), at least 1.</summary>
    public int RetryAfterSeconds
    {
        get
        {
            lock (_lock)
            {
                return double.IsNaN(_meanServiceSeconds) ? 1 : Math.Max(1, (int)Math.Ceiling(_meanServiceSeconds));
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> when its turn comes. Returns the result and how long the request waited.
    /// </summary>
    /// <exception cref="ApiException">429: the queue is full.</exception>
    /// <exception cref="OperationCanceledException">the token fired while waiting or running.</exception>
    public async Task<(T Result, TimeSpan Waited)> RunAsync<T>(Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_waiting + _running > MaxQueue)
            {
                throw new ApiException(StatusCodes.Status429TooManyRequests, ApiErrorType.RateLimit,
                    $"The classification queue is full ({MaxQueue} waiting behind the running request); retry later or on another replica.",
                    code: "queue_full")
                { RetryAfterSeconds = RetryAfterSeconds, QueueDepth = _waiting + _running };
            }
            _waiting++;
        }
        var waited = Stopwatch.StartNew();
        try
        {
            await _gate.WaitAsync(cancellationToken);
        }
        catch
        {
            lock (_lock)
            {
                _waiting--;
            }
            throw;
        }
        var service = Stopwatch.StartNew();
        lock (_lock)
        {
            _waiting--;
            _running++;
        }
        TimeSpan queueTime = waited.Elapsed;
        try
        {
            return (await work(cancellationToken), queueTime);
        }
        finally
        {
            double seconds = service.Elapsed.TotalSeconds;
            lock (_lock)
            {
                _running--;
                _meanServiceSeconds = double.IsNaN(_meanServiceSeconds) ? seconds
                    : ServiceTimeSmoothing * seconds + (1 - ServiceTimeSmoothing) * _meanServiceSeconds;
            }
            _gate.Release();
        }
    }
}
