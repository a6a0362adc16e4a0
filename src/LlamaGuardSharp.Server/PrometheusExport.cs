using System.Diagnostics.Metrics;
using Prometheus;

namespace LlamaGuardSharp.Server;

/// <summary>
/// Publishes this host's <see cref="ServiceMetrics"/> meter (and nothing else) as Prometheus text at <c>/metrics</c>,
/// through prometheus-net's meter adapter into a registry of this host's own (no process-wide state).
/// </summary>
internal sealed class PrometheusExport : IDisposable
{
    /// <summary>Seconds: from a sub-millisecond tiny-model answer to a minutes-long image classification on the real model.</summary>
    private static readonly double[] SecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly IDisposable _adapter;

    public PrometheusExport(ServiceMetrics metrics)
    {
        var meter = metrics.Meter;
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = _registry,
            MetricFactory = Metrics.WithCustomRegistry(_registry), // the default factory would publish to the process-wide registry
            InstrumentFilterPredicate = instrument => ReferenceEquals(instrument.Meter, meter),
            ResolveHistogramBuckets = _ => SecondsBuckets,
            // A series idle this long is dropped (prometheus-net's limit is one day); shorter would make idle counters
            // vanish between scrapes and come back as resets.
            MetricsExpireAfter = TimeSpan.FromDays(1),
        });
    }

    public async Task WriteAsync(HttpContext context)
    {
        context.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await _registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
    }

    public void Dispose() => _adapter.Dispose();
}
