using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LlamaGuardSharp.LoadTest;

/// <summary>
/// N concurrent clients sending <c>POST /v1/moderations</c> until a request count or a duration is reached; every
/// answer is checked (200: a well-formed result; 429: the error envelope, sent only when the queue was full according to
/// its <c>X-Queue-Depth</c>); optional retries of 429/503/transport failures are counted.
/// </summary>
public sealed class LoadRunner(LoadOptions options, TextWriter progress)
{
    private readonly ConcurrentBag<double> _latenciesMs = [];
    private readonly ConcurrentDictionary<string, int> _statusCounts = new();
    private readonly ConcurrentDictionary<string, int> _retries = new();
    private readonly ConcurrentQueue<string> _problems = new();
    private int _issued;
    private int _malformed;
    private int _invalid429;
    private int _transportErrors;
    private int _queueLimit = -1;

    public async Task<LoadReport> RunAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Concurrency * 2, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = options.BaseUrl,
            Timeout = options.Timeout,
        };
        if (options.ApiKey is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        }
        _queueLimit = options.QueueLimit ?? await ReadQueueLimitAsync(http, cancellationToken);
        var clock = Stopwatch.StartNew();
        var deadline = options.Duration is { } d ? DateTime.UtcNow + d : DateTime.MaxValue;
        using var ticker = new Timer(_ => progress.WriteLine(
            $"load: {Volatile.Read(ref _issued)} sent, {_latenciesMs.Count} answered 200, {clock.Elapsed.TotalSeconds:F0} s"), null, 5000, 5000);
        var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            while (!cancellationToken.IsCancellationRequested && DateTime.UtcNow < deadline)
            {
                int index = Interlocked.Increment(ref _issued) - 1;
                if (options.Requests is { } total && index >= total)
                {
                    Interlocked.Decrement(ref _issued);
                    return;
                }
                await OneRequestAsync(http, index, cancellationToken);
            }
        }, cancellationToken)).ToArray();
        await Task.WhenAll(workers);
        double seconds = clock.Elapsed.TotalSeconds;

        var sorted = _latenciesMs.Order().ToArray();
        int ok = _statusCounts.GetValueOrDefault("200");
        int serverErrors = _statusCounts.Where(p => p.Key.StartsWith('5')).Sum(p => p.Value);
        bool passed = serverErrors == 0 && _transportErrors == 0 && _malformed == 0 && _invalid429 == 0;
        return new LoadReport(
            Url: options.BaseUrl.ToString(),
            Kind: options.Kind.ToString().ToLowerInvariant(),
            Concurrency: options.Concurrency,
            Requests: Volatile.Read(ref _issued),
            DurationSeconds: seconds,
            ThroughputPerSecond: ok / seconds,
            LatencyMs: new LatencySummary(Percentile(sorted, 0.50), Percentile(sorted, 0.95), Percentile(sorted, 0.99),
                sorted.Length == 0 ? 0 : sorted[^1], sorted.Length == 0 ? 0 : sorted.Average()),
            StatusCounts: new SortedDictionary<string, int>(_statusCounts),
            TransportErrors: _transportErrors,
            MalformedAnswers: _malformed,
            InvalidRateLimits: _invalid429,
            QueueLimit: _queueLimit >= 0 ? _queueLimit : null,
            Retries: new SortedDictionary<string, int>(_retries),
            RetriesTotal: _retries.Values.Sum(),
            Problems: _problems.Take(20).ToArray(),
            Passed: passed);
    }

    private async Task OneRequestAsync(HttpClient http, int index, CancellationToken cancellationToken)
    {
        bool image = options.Kind == RequestKind.Image || (options.Kind == RequestKind.Mixed && index % 2 == 1);
        string body = BuildBody(index, image);
        var watch = Stopwatch.StartNew();
        for (int attempt = 0; ; attempt++)
        {
            string? retryReason = null;
            TimeSpan wait = TimeSpan.FromMilliseconds(200);
            try
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await http.PostAsync("v1/moderations", content, cancellationToken);
                string text = await response.Content.ReadAsStringAsync(cancellationToken);
                int status = (int)response.StatusCode;
                if (status is 429 or 503 && attempt < options.MaxRetries)
                {
                    retryReason = status.ToString(CultureInfo.InvariantCulture);
                    wait = response.Headers.RetryAfter?.Delta is { } after ? TimeSpan.FromTicks(Math.Min(after.Ticks, TimeSpan.FromSeconds(10).Ticks)) : wait;
                }
                else
                {
                    Record(status, text, response, watch.Elapsed);
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt < options.MaxRetries)
                {
                    retryReason = "transport";
                }
                else
                {
                    Interlocked.Increment(ref _transportErrors);
                    _problems.Enqueue($"request {index}: transport error: {e.Message}");
                    return;
                }
            }
            _retries.AddOrUpdate(retryReason!, 1, (_, n) => n + 1);
            await Task.Delay(wait, cancellationToken);
        }
    }

    private void Record(int status, string text, HttpResponseMessage response, TimeSpan elapsed)
    {
        _statusCounts.AddOrUpdate(status.ToString(CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
        if (status == 200)
        {
            _latenciesMs.Add(elapsed.TotalMilliseconds);
            if (AnswerCheck.Moderation(text) is { } problem)
            {
                Interlocked.Increment(ref _malformed);
                _problems.Enqueue("malformed 200: " + problem);
            }
        }
        else if (status == 429)
        {
            // A 429 is legitimate only from a full queue: waiting + running above the replica's limit.
            // The replica's limit at the refusal (X-Queue-Limit: --max-queue, lowered while a longer queue would pass the
            // request deadline), else the one read from /metrics or given.
            string? problem = AnswerCheck.Error(text, "rate_limit_error");
            int limit = Header(response, "X-Queue-Limit") ?? _queueLimit;
            if (problem is null && !(Header(response, "X-Queue-Depth") is { } depth && (limit < 0 || depth > limit)))
            {
                problem = $"429 without a full queue (X-Queue-Depth {Header(response, "X-Queue-Depth")?.ToString(CultureInfo.InvariantCulture) ?? "absent"}, limit {limit})";
            }
            if (problem is not null)
            {
                Interlocked.Increment(ref _invalid429);
                _problems.Enqueue(problem);
            }
        }
        else
        {
            _problems.Enqueue($"{status}: {(text.Length > 300 ? text[..300] : text)}");
        }
    }

    private static int? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && int.TryParse(values.FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value : null;

    private string BuildBody(int index, bool image)
    {
        string text = $"Load test request {index}: how do I keep my houseplants alive while travelling?";
        if (!image)
        {
            return JsonSerializer.Serialize(new { model = "llama-guard", input = text });
        }
        byte[] png = TestPng.Create(64, 64, options.DistinctImages ? index : 0);
        string url = "data:image/png;base64," + Convert.ToBase64String(png);
        return JsonSerializer.Serialize(new
        {
            model = "llama-guard",
            input = new object[] { new { type = "text", text }, new { type = "image_url", image_url = new { url } } },
        });
    }

    /// <summary>The replica's <c>llamaguard_queue_limit</c> from <c>/metrics</c>, or -1 when unknown.</summary>
    private static async Task<int> ReadQueueLimitAsync(HttpClient http, CancellationToken cancellationToken)
    {
        try
        {
            string metrics = await http.GetStringAsync("metrics", cancellationToken);
            foreach (string line in metrics.Split('\n'))
            {
                if (line.StartsWith("llamaguard_queue_limit ", StringComparison.Ordinal)
                    && double.TryParse(line["llamaguard_queue_limit ".Length..], NumberStyles.Float, CultureInfo.InvariantCulture, out double limit))
                {
                    return (int)limit;
                }
            }
        }
        catch (HttpRequestException)
        {
        }
        return -1;
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

public sealed record LatencySummary(double P50, double P95, double P99, double Max, double Mean);

/// <summary>The outcome of a run; <c>--json</c> prints it with snake_case names.</summary>
public sealed record LoadReport(
    string Url, string Kind, int Concurrency, int Requests, double DurationSeconds, double ThroughputPerSecond,
    LatencySummary LatencyMs, SortedDictionary<string, int> StatusCounts, int TransportErrors, int MalformedAnswers, int InvalidRateLimits,
    int? QueueLimit, SortedDictionary<string, int> Retries, int RetriesTotal, string[] Problems, bool Passed);
