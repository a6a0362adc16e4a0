using LlamaGuardSharp.Hub;
using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Server;

/// <summary>A classifier ready to serve: the engine, the name the APIs report, how long it took to load.</summary>
/// <param name="Guard">The classification engine (a <see cref="GuardModel"/> in production).</param>
/// <param name="ModelId">Reported as <c>model</c> (OpenAI) and as the shield id (llama-stack).</param>
/// <param name="LoadTime">Time spent loading.</param>
/// <param name="Owner">Disposed when the service stops (the loaded model), or null when the host owns the engine.</param>
public sealed record LoadedGuard(IContentGuard Guard, string ModelId, TimeSpan LoadTime, IDisposable? Owner);

/// <summary>
/// Loads the classifier the service answers with. Runs in the background after the server starts listening, so
/// <c>/healthz</c> answers at once and <c>/readyz</c> says 503 until the model is loaded. Replaceable through DI
/// (the tests serve the tiny golden model this way).
/// </summary>
public interface IContentGuardLoader
{
    Task<LoadedGuard> LoadAsync(CancellationToken cancellationToken);
}

/// <summary>Loads <see cref="LlamaGuardServiceOptions.Model"/> (a folder or a cached repository id, <see cref="ModelLocator"/>) with <see cref="GuardModel.LoadAsync"/>.</summary>
internal sealed class GuardModelLoader(LlamaGuardServiceOptions options, ILogger<GuardModelLoader> logger) : IContentGuardLoader
{
    public async Task<LoadedGuard> LoadAsync(CancellationToken cancellationToken)
    {
        string path = options.Model ?? throw new InvalidOperationException("No model configured: set LlamaGuard:Model (llamaguard serve --model DIR).");
        var progress = new Progress<GuardLoadProgress>(p => logger.LogInformation("Loading model: {Stage} ({Fraction:P0})", p.Stage, p.Fraction));
        string folder = ModelLocator.Resolve(path); // a folder as is; a Hub repository id from the hub cache
        var model = await GuardModel.LoadAsync(folder, new GuardModelOptions
        {
            Threads = options.Threads,
            Layout = options.Layout,
            CrossAttentionMasking = options.CrossAttention,
            Precision = options.Precision,
            Int8SidecarPath = options.Int8Sidecar,
        }, progress, cancellationToken);
        string id = options.ModelId ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)));
        return new LoadedGuard(model, id, model.LoadTime, model);
    }
}
