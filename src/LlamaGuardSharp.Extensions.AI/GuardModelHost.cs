using LlamaGuardSharp.Inference;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// Loads the in-process <see cref="GuardModel"/> once when the host starts (in the background, so the application
/// starts serving its health endpoints meanwhile) and disposes it at shutdown. Classifications wait for the load;
/// a failed load makes them, and the health check, fail with its cause. Without a host (a bare service provider), the
/// first classification starts the load, so nothing waits on a start that never comes.
/// </summary>
internal sealed class GuardModelHost(IOptions<LlamaGuardOptions> options, ILogger<GuardModelHost> logger) : IHostedService, IDisposable
{
    private readonly TaskCompletionSource<GuardModel> _model = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loading;
    private int _started;
    private int _disposed;

    /// <summary>The model's load, completed when it is ready (faulted when loading failed).</summary>
    public Task<GuardModel> Model => _model.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureLoading();
        return Task.CompletedTask;
    }

    /// <summary>Starts the load once (from the host's start or the first classification).</summary>
    public void EnsureLoading()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }
        string path = options.Value.ModelPath!;
        var modelOptions = new GuardModelOptions
        {
            Threads = options.Value.Threads, Precision = options.Value.Precision, Int8SidecarPath = options.Value.Int8SidecarPath,
        };
        _loading = Task.Run(async () =>
        {
            try
            {
                logger.LogInformation("Loading Llama Guard from {ModelPath}", path);
                var model = await GuardModel.LoadAsync(path, modelOptions, cancellationToken: _stopping.Token).ConfigureAwait(false);
                logger.LogInformation("Llama Guard loaded from {ModelPath} in {Seconds:F1} s", path, model.LoadTime.TotalSeconds);
                if (!_model.TrySetResult(model))
                {
                    model.Dispose();
                }
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                _model.TrySetCanceled(_stopping.Token);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Loading Llama Guard from {ModelPath} failed", path);
                _model.TrySetException(new InvalidOperationException($"Loading Llama Guard from '{path}' failed: {e.Message}", e));
            }
        }, CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_loading is not null)
        {
            await _loading.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Idempotent: the container disposes this instance as the host singleton and as the hosted service.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _stopping.Cancel();
        if (_model.Task.IsCompletedSuccessfully)
        {
            _model.Task.Result.Dispose();
        }
        _stopping.Dispose();
    }
}
