using System.Diagnostics;

namespace LlamaGuardSharp.Server;

/// <summary>
/// One classification request runs at a time (each uses every core); up to <see cref="Limit"/> more wait in arrival
/// order; beyond that a request is refused at once (429) with a <c>Retry-After</c> estimated from recent service times.
/// <see cref="Limit"/> is <see cref="MaxQueue"/>, lowered while recent service times say that a request at the end of a
/// longer queue would not finish within the request deadline — refusing it now (429, retry elsewhere) beats a 504 after
/// minutes of waiting. A waiting or running request ends early when its token fires (client gone, deadline, drain
/// timeout): a cancelled waiter leaves the queue without running.
/// </summary>
/// <remarks>
/// Invariants, under <c>_lock</c>: <c>0 ≤ running ≤ 1</c> and <c>waiting + running ≤ MaxQueue + 1</c> (a request is
/// admitted only while the sum is at most the limit; a waiter counts as waiting until it holds the gate).
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

    private readonly double _requestTimeoutSeconds = options.RequestTimeout;

    /// <summary>The configured queue length (<see cref="LlamaGuardServiceOptions.MaxQueue"/>).</summary>
    public int MaxQueue { get; } = options.MaxQueue;

    /// <summary>Requests that may wait behind the running one now (see the class summary).</summary>
    public int Limit
    {
        get
        {
            lock (_lock)
            {
                return LimitLocked();
            }
        }
    }

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
                return _waiting + _running > LimitLocked();
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

    /// <summary>MaxQueue, or fewer places when a request admitted at the end would end past its deadline: admitted at
    /// depth d, it ends after about (d + 1) mean service times.</summary>
    private int LimitLocked()
    {
        if (double.IsNaN(_meanServiceSeconds) || _meanServiceSeconds <= 0)
        {
            return MaxQueue;
        }
        double fits = Math.Floor(_requestTimeoutSeconds / _meanServiceSeconds) - 1;
        return (int)Math.Clamp(fits, 0, MaxQueue);
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
            int limit = LimitLocked();
            if (_waiting + _running > limit)
            {
                string reason = limit < MaxQueue
                    ? $"{limit} waiting behind the running request: at the recent {_meanServiceSeconds:0.##} s per request a longer queue would pass the {_requestTimeoutSeconds:0.##} s deadline"
                    : $"{limit} waiting behind the running request";
                throw new ApiException(StatusCodes.Status429TooManyRequests, ApiErrorType.RateLimit,
                    $"The classification queue is full ({reason}); retry later or on another replica.", code: "queue_full")
                { RetryAfterSeconds = RetryAfterSeconds, QueueDepth = _waiting + _running, QueueLimit = limit };
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
