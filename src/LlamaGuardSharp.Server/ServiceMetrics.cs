using System.Diagnostics;
using System.Diagnostics.Metrics;
using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Server;

/// <summary>
/// The service's instruments on <see cref="System.Diagnostics.Metrics"/> (meter <see cref="MeterName"/>), so
/// OpenTelemetry collects them as well as <c>/metrics</c> (Prometheus text). Names and tags: docs/service.md.
/// </summary>
/// <remarks>Instrument names follow Prometheus conventions (unit and <c>_total</c> suffixes) because the exporter joins
/// meter and instrument name: meter <c>llamaguard</c> + <c>queue_depth</c> = <c>llamaguard_queue_depth</c>.</remarks>
internal sealed class ServiceMetrics
{
    public const string MeterName = "llamaguard";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _requestDuration;
    private readonly Histogram<double> _stageDuration;
    private readonly Counter<long> _cacheLookups;
    private readonly Counter<long> _classifications;
    private double _loadSeconds = double.NaN;

    public ServiceMetrics(IMeterFactory meterFactory, ClassificationQueue queue)
    {
        Meter = meterFactory.Create(MeterName);
        _requests = Meter.CreateCounter<long>("requests_total", unit: "{request}", description: "HTTP requests answered, by route and status.");
        _requestDuration = Meter.CreateHistogram<double>("request_duration_seconds", unit: "s",
            description: "Time from receiving a request to its answer, by route and status.");
        _stageDuration = Meter.CreateHistogram<double>("stage_duration_seconds", unit: "s",
            description: "Time per stage of a classification request: queue (waiting), image_fetch (http(s) images), preprocess, vision, prefill, decode, classify (the model's total).");
        _cacheLookups = Meter.CreateCounter<long>("cache_lookups_total", unit: "{lookup}",
            description: "Image-encoding and prompt-prefix cache lookups, by cache (image|prompt) and result (hit|miss).");
        _classifications = Meter.CreateCounter<long>("classifications_total", unit: "{classification}",
            description: "Classifications run, by verdict (safe|unsafe|unparseable).");
        Meter.CreateObservableGauge("queue_depth", () => queue.Depth, unit: "{request}",
            description: "Classification requests waiting or running on this replica.");
        Meter.CreateObservableGauge("queue_limit", () => queue.Limit, unit: "{request}",
            description: "Requests allowed to wait behind the running one now: --max-queue, lowered while recent service times say a longer queue would pass the request deadline; beyond it requests get 429.");
        Meter.CreateObservableGauge("model_load_seconds", () => Volatile.Read(ref _loadSeconds) is var s && double.IsNaN(s) ? [] : new[] { new Measurement<double>(s) },
            unit: "s", description: "How long loading the model took (absent until loaded).");
    }

    /// <summary>The meter (its <see cref="Meter.Scope"/> is this host's meter factory).</summary>
    public Meter Meter { get; }

    public void ModelLoaded(TimeSpan loadTime) => Volatile.Write(ref _loadSeconds, loadTime.TotalSeconds);

    public void RequestDone(string route, int status, TimeSpan elapsed)
    {
        var tags = new TagList { { "route", route }, { "status", status } };
        _requests.Add(1, tags);
        _requestDuration.Record(elapsed.TotalSeconds, tags);
    }

    public void Stage(string stage, TimeSpan elapsed) => _stageDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("stage", stage));

    /// <summary>Stage times and cache results of one verdict.</summary>
    public void Verdict(SafetyVerdict verdict, bool hadImage)
    {
        var t = verdict.Timings;
        Stage("preprocess", t.Preprocess);
        Stage("vision", t.Vision);
        Stage("prefill", t.Prefill);
        Stage("decode", t.Decode);
        Stage("classify", t.Total);
        _classifications.Add(1, new KeyValuePair<string, object?>("verdict", verdict.Kind.ToString().ToLowerInvariant()));
        if (hadImage)
        {
            // An image whose encoding came from the cache costs no vision time (GuardModel skips the encoder).
            CacheLookup("image", verdict.Timings.Vision == TimeSpan.Zero);
        }
        CacheLookup("prompt", verdict.ReusedPromptTokenCount > 0);
    }

    private void CacheLookup(string cache, bool hit) =>
        _cacheLookups.Add(1, new TagList { { "cache", cache }, { "result", hit ? "hit" : "miss" } });
}
