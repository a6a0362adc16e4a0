using System.CommandLine;
using System.Text.Json;

namespace LlamaGuardSharp.LoadTest;

/// <summary>
/// <c>llamaguard-load --url URL --concurrency N (--requests N | --duration S) --kind text|image|mixed [--api-key K]
/// [--max-retries N] [--queue-limit N] [--allow-errors] [--json]</c>: throughput, p50/p95/p99 latency, status counts,
/// answer checks. Exit 0 when every answer was a well-formed 200 or a legitimate 429 (or with --allow-errors), 1 otherwise,
/// 2 for bad arguments.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var url = new Option<string>("--url") { Description = "Base URL of the service or balancer, e.g. http://127.0.0.1:8000.", Required = true };
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent clients.", DefaultValueFactory = _ => 4 };
        var requests = new Option<int?>("--requests") { Description = "Stop after this many requests." };
        var duration = new Option<double?>("--duration") { Description = "Stop sending after this many seconds." };
        var kind = new Option<string>("--kind") { Description = "text, image (a 64×64 PNG per request) or mixed (alternating).", DefaultValueFactory = _ => "text" };
        kind.AcceptOnlyFromAmong("text", "image", "mixed");
        var apiKey = new Option<string?>("--api-key") { Description = "Bearer key, when the service requires one." };
        var maxRetries = new Option<int>("--max-retries") { Description = "Retry a 429, a 503 or a transport failure up to N times (after Retry-After); retries are counted.", DefaultValueFactory = _ => 0 };
        var queueLimit = new Option<int?>("--queue-limit") { Description = "The replicas' queue limit, to judge a 429 that carries no X-Queue-Limit header (default: llamaguard_queue_limit read from /metrics at the start)." };
        var timeout = new Option<double>("--timeout") { Description = "Per-request client timeout in seconds.", DefaultValueFactory = _ => 900 };
        var sameImage = new Option<bool>("--same-image") { Description = "Send one image over and over (measures the image cache) instead of a new one per request." };
        var allowErrors = new Option<bool>("--allow-errors") { Description = "Exit 0 even with 5xx, transport errors or malformed answers (they are still reported)." };
        var json = new Option<bool>("--json") { Description = "Print the report as one JSON object on stdout." };
        var root = new RootCommand("Load generator for llamaguard serve (POST /v1/moderations).")
        {
            url, concurrency, requests, duration, kind, apiKey, maxRetries, queueLimit, timeout, sameImage, allowErrors, json,
        };
        root.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            var output = parseResult.InvocationConfiguration.Output;
            int? count = parseResult.GetValue(requests);
            double? seconds = parseResult.GetValue(duration);
            string? problem = (count, seconds) switch
            {
                (null, null) or (not null, not null) => "give exactly one of --requests N and --duration S",
                ({ } n, _) when n <= 0 => "--requests must be positive",
                (_, { } s) when s <= 0 => "--duration must be positive",
                _ when parseResult.GetValue(concurrency) <= 0 => "--concurrency must be positive",
                _ when parseResult.GetValue(maxRetries) < 0 => "--max-retries must be 0 or more",
                _ when !Uri.TryCreate(parseResult.GetValue(url)!.TrimEnd('/') + "/", UriKind.Absolute, out _) => "--url is not an absolute URL",
                _ => null,
            };
            if (problem is not null)
            {
                error.WriteLine("error: " + problem);
                return 2;
            }
            var options = new LoadOptions(new Uri(parseResult.GetValue(url)!.TrimEnd('/') + "/"), parseResult.GetValue(concurrency), count,
                seconds is { } s2 ? TimeSpan.FromSeconds(s2) : null, Enum.Parse<RequestKind>(parseResult.GetValue(kind)!, ignoreCase: true),
                parseResult.GetValue(apiKey), parseResult.GetValue(maxRetries), parseResult.GetValue(allowErrors), parseResult.GetValue(queueLimit),
                TimeSpan.FromSeconds(parseResult.GetValue(timeout)), DistinctImages: !parseResult.GetValue(sameImage));
            var report = await new LoadRunner(options, error).RunAsync(cancellationToken);
            if (parseResult.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(report, new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
            }
            else
            {
                output.WriteLine($"{report.Requests} requests ({report.Kind}, {report.Concurrency} clients) in {report.DurationSeconds:F1} s: {report.ThroughputPerSecond:F2} answers/s");
                output.WriteLine($"latency of 200s (ms): p50 {report.LatencyMs.P50:F1}  p95 {report.LatencyMs.P95:F1}  p99 {report.LatencyMs.P99:F1}  max {report.LatencyMs.Max:F1}");
                output.WriteLine($"status: {string.Join("  ", report.StatusCounts.Select(p => $"{p.Key}×{p.Value}"))}  transport errors: {report.TransportErrors}  malformed: {report.MalformedAnswers}  invalid 429s: {report.InvalidRateLimits}  retries: {report.RetriesTotal}");
                foreach (string line in report.Problems)
                {
                    output.WriteLine("  " + line);
                }
                output.WriteLine(report.Passed ? "PASS" : "FAIL");
            }
            return report.Passed || options.AllowErrors ? 0 : 1;
        });
        return root.Parse(args).Invoke();
    }
}
