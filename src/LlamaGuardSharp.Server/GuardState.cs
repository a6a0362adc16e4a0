namespace LlamaGuardSharp.Server;

/// <summary>
/// Where this replica stands: loading, ready with a <see cref="LoadedGuard"/>, failed to load, or draining (SIGTERM
/// received). Read by every request; written by <see cref="ModelLoadingService"/> and the drain hook. Owns the loaded
/// model and disposes it when the host is disposed (after the drain).
/// </summary>
internal sealed class GuardState : IDisposable
{
    private volatile LoadedGuard? _loaded;
    private volatile bool _draining;

    public LoadedGuard? Loaded => _loaded;

    /// <summary>The load failed; the service stops and <c>llamaguard serve</c> exits 1.</summary>
    public Exception? LoadFailure { get; private set; }

    public bool IsDraining => _draining;

    public bool IsReady => _loaded is not null && !_draining;

    public void SetLoaded(LoadedGuard loaded) => _loaded = loaded;

    public void SetFailed(Exception failure) => LoadFailure = failure;

    public void StartDraining() => _draining = true;

    public void Dispose() => _loaded?.Owner?.Dispose();
}

/// <summary>Loads the model after the server has started, so health answers during a minutes-long load.</summary>
internal sealed class ModelLoadingService(IContentGuardLoader loader, GuardState state, ServiceMetrics metrics,
    IHostApplicationLifetime lifetime, ILogger<ModelLoadingService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            var loaded = await loader.LoadAsync(stoppingToken);
            state.SetLoaded(loaded);
            metrics.ModelLoaded(loaded.LoadTime);
            logger.LogInformation("Model {ModelId} loaded in {Seconds:F1} s; ready", loaded.ModelId, loaded.LoadTime.TotalSeconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped while loading: nothing to serve.
        }
        catch (Exception e)
        {
            state.SetFailed(e);
            logger.LogCritical("Loading the model failed: {Message}", e.Message);
            lifetime.StopApplication();
        }
    }
}
