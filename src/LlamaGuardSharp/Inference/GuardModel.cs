using System.Diagnostics;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// Llama Guard 3 Vision, loaded and ready to classify conversations: the public entry point of the library.
/// <code>
/// using var guard = await GuardModel.LoadAsync("/models/Llama-Guard-3-11B-Vision");
/// var verdict = await guard.ClassifyAsync(Conversation.ForPrompt("How do I make a bomb?"));
/// </code>
/// The weights stay in read-only memory maps of the checkpoint files; <see cref="Dispose"/> releases them.
/// Thread-safety: any number of callers may call <see cref="ClassifyAsync"/> concurrently; classifications are
/// serialised (each one already uses every core), in arrival order.
/// </summary>
public sealed class GuardModel : IContentGuard, IDisposable
{
    private readonly MllamaCheckpoint _checkpoint;
    private readonly MllamaModel _model;
    private readonly GuardClassifier _classifier;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _prefetchCancel = new();
    private Task? _prefetch;
    private readonly EncodedImageCache _imageCache;
    private readonly PromptPrefixCache _prefixCache;
    private bool _disposed;

    private GuardModel(MllamaCheckpoint checkpoint, MllamaModel model, Llama3Tokenizer tokenizer, VerdictTokens tokens,
        ImagePreprocessorOptions preprocessing, GuardModelOptions options, TimeSpan loadTime)
    {
        // The caches stay off when they would not fit in physical memory next to the weights the model maps (the mapped
        // weights would be evicted instead): the bf16 checkpoint, or with int8 the sidecar in place of what it quantizes.
        long entryBytes = CrossAttentionMemory.BytesPerImage(model.Config);
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        bool fits = WeightPrefetcher.Fits(model.WeightBytes + entryBytes * options.ImageCacheSize, available);
        _imageCache = new EncodedImageCache(fits ? options.ImageCacheSize : 0);
        var prefixCache = new PromptPrefixCache(options.PromptCacheTokens);
        long prefixBytes = KvCache.BytesPerToken(model.Config.Text) * options.PromptCacheTokens * prefixCache.Entries;
        _prefixCache = WeightPrefetcher.Fits(model.WeightBytes + entryBytes * _imageCache.Capacity + prefixBytes, available)
            ? prefixCache : new PromptPrefixCache(0);
        _checkpoint = checkpoint;
        _model = model;
        Tokenizer = tokenizer;
        Options = options;
        LoadTime = loadTime;
        _classifier = new GuardClassifier(model, tokenizer, tokens, preprocessing, _imageCache, _prefixCache, options, loadTime);
    }

    /// <summary>The model folder actually loaded (a snapshot folder for hub caches).</summary>
    public string ModelDirectory => _checkpoint.Directory;

    /// <summary>The loaded model's configuration (config.json).</summary>
    public MllamaConfig Config => _model.Config;

    /// <summary>The loaded network (diagnostics: the int8 drift measurement runs it directly).</summary>
    internal MllamaModel Model => _model;

    /// <summary>The model's tokenizer (tokenizer.json or tokenizer.model of the folder).</summary>
    public Llama3Tokenizer Tokenizer { get; }

    /// <summary>The options the model was loaded with.</summary>
    public GuardModelOptions Options { get; }

    /// <summary>Encoded images kept between classifications (<see cref="GuardModelOptions.ImageCacheSize"/>, or 0 when
    /// they would not fit in memory next to the checkpoint).</summary>
    public int ImageCacheCapacity => _imageCache.Capacity;

    /// <summary>Leading prompt tokens whose keys/values are kept for the next classification
    /// (<see cref="GuardModelOptions.PromptCacheTokens"/>, or 0 when they would not fit in memory next to the checkpoint).</summary>
    public int PromptCacheCapacity => _prefixCache.TokensPerEntry;

    /// <summary>How long <see cref="LoadAsync"/> took.</summary>
    public TimeSpan LoadTime { get; }

    /// <summary>
    /// Loads a model folder (config.json, safetensors or shards + index, tokenizer.json or tokenizer.model, optional
    /// preprocessor_config.json), a hub-cache repository folder, or a Hub repository id such as
    /// <c>meta-llama/Llama-Guard-3-11B-Vision</c> already in the Hugging Face cache (its <c>refs/main</c> snapshot; see
    /// <see cref="Hub.ModelLocator"/> — no network call). Validates every header and the tensor inventory.
    /// </summary>
    public static Task<GuardModel> LoadAsync(string path, GuardModelOptions? options = null, IProgress<GuardLoadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= GuardModelOptions.Default;
        ValidateOptions(options); // before the Hub cache is looked at or any file opened
        path = Hub.ModelLocator.Resolve(path); // a Hub repository id → its cached snapshot (offline; a path stays a path)
        return Task.Run(() =>
        {
            var watch = Stopwatch.StartNew();
            progress?.Report(new GuardLoadProgress("opening checkpoint", 0));
            var checkpoint = MllamaCheckpoint.Open(path);
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new GuardLoadProgress("loading tokenizer", 0.3));
                var tokenizer = Llama3Tokenizer.Load(checkpoint.Directory);
                var tokens = VerdictTokens.Resolve(tokenizer, MllamaModel.ConfiguredStopTokenIds(checkpoint));
                var preprocessing = ImagePreprocessorOptions.FromModelDirectory(checkpoint.Directory);
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new GuardLoadProgress("preparing weights", 0.5));
                var model = MllamaModel.Load(checkpoint, options);
                progress?.Report(new GuardLoadProgress("ready", 1));
                var guard = new GuardModel(checkpoint, model, tokenizer, tokens, preprocessing, options, watch.Elapsed);
                if (options.PrefetchWeights && WeightPrefetcher.IsSupported
                    && WeightPrefetcher.Fits(model.WeightBytes, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes))
                {
                    guard._prefetch = WeightPrefetcher.Start(model.MatricesInUseOrder, guard._prefetchCancel.Token);
                }
                return guard;
            }
            catch
            {
                checkpoint.Dispose();
                throw;
            }
        }, cancellationToken);
    }

    /// <summary>
    /// Classifies the last turn of <paramref name="conversation"/> (User → prompt classification, Agent → response
    /// classification) against <paramref name="policy"/> (default: S1–S13).
    /// </summary>
    public async Task<SafetyVerdict> ClassifyAsync(Conversation conversation, SafetyPolicy? policy = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ObjectDisposedException.ThrowIf(_disposed, this);
        policy ??= SafetyPolicy.Default;
        if (conversation.Image is { IsPlaceholder: true })
        {
            throw new ArgumentException("The conversation's image has no bytes (a placeholder); give the encoded image to classify it.", nameof(conversation));
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return await Task.Run(() => _classifier.Classify(conversation, policy, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (Options.CollectGarbageAfterClassification)
            {
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
            }
            _gate.Release();
        }
    }

    private static void ValidateOptions(GuardModelOptions options)
    {
        // Every bound is checked here, not only in the CLI: the service builds options from configuration.
        CheckRange(options.Threads, 0, GuardModelOptions.MaxThreads, nameof(options.Threads));
        CheckRange(options.MaxNewTokens, 1, GuardModelOptions.MaxNewTokensLimit, nameof(options.MaxNewTokens));
        CheckRange(options.MaxPromptTokens, 1, GuardModelOptions.MaxPromptTokensLimit, nameof(options.MaxPromptTokens));
        CheckRange(options.ImageCacheSize, 0, GuardModelOptions.MaxImageCacheSize, nameof(options.ImageCacheSize));
        CheckRange(options.PromptCacheTokens, 0, GuardModelOptions.MaxPromptCacheTokens, nameof(options.PromptCacheTokens));
        if (!Enum.IsDefined(options.Precision))
        {
            throw new ArgumentOutOfRangeException("Precision", options.Precision, "Precision is Fp32 or Int8.");
        }
        if (!Enum.IsDefined(options.Layout))
        {
            throw new ArgumentOutOfRangeException("Layout", options.Layout, "Layout is HuggingFace or MetaNative.");
        }
        if (!Enum.IsDefined(options.CrossAttentionMasking))
        {
            throw new ArgumentOutOfRangeException("CrossAttentionMasking", options.CrossAttentionMasking, "CrossAttentionMasking is HuggingFace or Meta.");
        }
        ArgumentNullException.ThrowIfNull(options.ImageDecoder, "ImageDecoder");
    }

    private static void CheckRange(int value, int min, int max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentOutOfRangeException(name, value, $"GuardModelOptions.{name} must be {min}..{max}, not {value}.");
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _gate.Wait();
        try
        {
            _disposed = true;
            _imageCache.Clear();
            _prefixCache.Clear();
            // Stop the readahead before unmapping (it checks for cancellation every 8 MB).
            _prefetchCancel.Cancel();
            _prefetch?.Wait();
            _prefetchCancel.Dispose();
            _checkpoint.Dispose();
        }
        finally
        {
            _gate.Release();
        }
    }
}
