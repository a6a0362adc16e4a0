using System.Diagnostics;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Compute;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Prompting;
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
    private readonly ImageDecoder _decoder;
    private readonly ImagePreprocessor _preprocessor;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _prefetchCancel = new();
    private Task? _prefetch;
    private readonly int[] _stopTokens;
    private readonly int[] _forcedCategoryPrefix;
    private readonly EncodedImageCache _imageCache;
    private readonly PromptPrefixCache _prefixCache;
    private bool _disposed;

    private GuardModel(MllamaCheckpoint checkpoint, MllamaModel model, Llama3Tokenizer tokenizer, ImagePreprocessorOptions preprocessing,
        GuardModelOptions options, TimeSpan loadTime)
    {
        long entryBytes = CrossAttentionMemory.BytesPerImage(model.Config);
        bool fits = WeightPrefetcher.Fits(checkpoint.TotalTensorBytes + entryBytes * options.ImageCacheSize,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        _imageCache = new EncodedImageCache(fits ? options.ImageCacheSize : 0);
        var prefixCache = new PromptPrefixCache(options.PromptCacheTokens);
        long prefixBytes = KvCache.BytesPerToken(model.Config.Text) * options.PromptCacheTokens * prefixCache.Entries;
        _prefixCache = WeightPrefetcher.Fits(checkpoint.TotalTensorBytes + entryBytes * _imageCache.Capacity + prefixBytes,
            GC.GetGCMemoryInfo().TotalAvailableMemoryBytes) ? prefixCache : new PromptPrefixCache(0);
        _checkpoint = checkpoint;
        _model = model;
        Tokenizer = tokenizer;
        Options = options;
        LoadTime = loadTime;
        _decoder = new ImageDecoder(options.ImageDecoder);
        _preprocessor = new ImagePreprocessor(preprocessing);
        _stopTokens = [.. model.StopTokenIds]; // generation_config.json, else config.json, else 128001/128008/128009
        _forcedCategoryPrefix = tokenizer.Encode("unsafe\nS", recognizeSpecialTokens: false);
    }

    /// <summary>The model folder actually loaded (a snapshot folder for hub caches).</summary>
    public string ModelDirectory => _checkpoint.Directory;

    public MllamaConfig Config => _model.Config;

    public Llama3Tokenizer Tokenizer { get; }

    public GuardModelOptions Options { get; }

    /// <summary>Encoded images kept between classifications (<see cref="GuardModelOptions.ImageCacheSize"/>, or 0 when
    /// they would not fit in memory next to the checkpoint).</summary>
    public int ImageCacheCapacity => _imageCache.Capacity;

    /// <summary>Leading prompt tokens whose keys/values are kept for the next classification
    /// (<see cref="GuardModelOptions.PromptCacheTokens"/>, or 0 when they would not fit in memory next to the checkpoint).</summary>
    public int PromptCacheCapacity => _prefixCache.TokensPerEntry;

    /// <summary>The open checkpoint (tests build independent models over the same maps).</summary>
    internal MllamaCheckpoint CheckpointForTests => _checkpoint;

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
        path = Hub.ModelLocator.Resolve(path); // a Hub repository id → its cached snapshot (offline; a path stays a path)
        options ??= GuardModelOptions.Default;
        ValidateOptions(options);
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
                var preprocessing = ImagePreprocessorOptions.FromModelDirectory(checkpoint.Directory);
                cancellationToken.ThrowIfCancellationRequested();
                progress?.Report(new GuardLoadProgress("preparing weights", 0.5));
                var compute = new ComputeContext(options.Threads, options.KernelProfile);
                var model = MllamaModel.Load(checkpoint, new ModelOptions(options.CrossAttentionMasking, compute));
                progress?.Report(new GuardLoadProgress("ready", 1));
                var guard = new GuardModel(checkpoint, model, tokenizer, preprocessing, options, watch.Elapsed);
                if (options.PrefetchWeights && WeightPrefetcher.IsSupported
                    && WeightPrefetcher.Fits(checkpoint.TotalTensorBytes, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes))
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
            return await Task.Run(() => Classify(conversation, policy, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // A classification leaves ≈ 1.5 GB of large activation arrays (vision stream and taps, cross-attention K/V,
            // KV cache) as garbage. Left to the GC's large-object budget they survive into the next request, which then
            // holds two generations at once (measured: peak anonymous memory 3.25 GB over three requests instead of
            // ≈ 2 GB) — memory the page cache needs for the 21 GB of mapped weights. Collecting here costs milliseconds
            // against minutes of compute.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
            _gate.Release();
        }
    }

    private SafetyVerdict Classify(Conversation conversation, SafetyPolicy policy, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        var rendered = PromptRenderer.RenderSegments(conversation, policy, Options.Layout);
        int[] ids = PromptEncoder.Encode(rendered, Tokenizer);
        if (ids.Length > Options.MaxPromptTokens)
        {
            throw new ModelInputException(
                $"The conversation renders to {ids.Length} prompt tokens, over the limit of {Options.MaxPromptTokens} (GuardModelOptions.MaxPromptTokens).");
        }

        var watch = Stopwatch.StartNew();
        EncodedImages? encoded = null;
        TimeSpan preprocessTime = TimeSpan.Zero, visionTime = TimeSpan.Zero;
        string? imageKey = null;
        if (conversation.Image is { } image)
        {
            string key = imageKey = EncodedImageCache.KeyOf(image.EncodedBytes.Span);
            if (!_imageCache.TryGet(key, out encoded))
            {
                var rgb = _decoder.Decode(image.EncodedBytes.Span);
                var input = VisionInput.FromPreprocessed(_preprocessor.Process(rgb));
                preprocessTime = watch.Elapsed;
                _model.BuildCrossAttentionMask(ids, [input]); // validate the prompt before the expensive vision work
                cancellationToken.ThrowIfCancellationRequested();
                if (_imageCache.MakeRoom())
                {
                    // Free the dropped encoding (≈ 420 MB) now rather than at the GC's leisure during the new one.
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
                }
                encoded = _model.EncodeImages([input], cancellationToken);
                visionTime = encoded.EncodingTime;
                _imageCache.Add(key, encoded);
            }
            else
            {
                preprocessTime = watch.Elapsed; // hashing the bytes; the encoding comes from the cache (vision time 0)
            }
        }
        cancellationToken.ThrowIfCancellationRequested();

        // Speculative prefill: the prompt's pass also runs, as a small tree of draft tokens, what the model is expected
        // to write first ("\n\n" in the HF layout) and then both verdicts: "safe" (whose next token, the end of the
        // answer, then needs no step) and, with category probabilities wanted, "unsafe\nS" as a sibling branch (the
        // tokens the category scoring forces at the answer position; an unsafe verdict goes on from its "S"). Each draft
        // token costs a prefill row instead of a decode step (which streams all ≈ 18.5 GB of text weights for one
        // token); the greedy loop follows the tree while its choices are in it and drops the rest, so the output is the
        // plain greedy one.
        int[] lead = Options.Layout == PromptLayout.HuggingFace ? [SpecialTokens.DoubleNewline] : [];
        var draft = VerdictDraft(lead, Options.ComputeCategoryProbabilities ? _forcedCategoryPrefix : [], out int lastForced);
        using var session = new GenerationSession(_model, ids.Length + Math.Max(Options.MaxNewTokens, draft.Count) + _forcedCategoryPrefix.Length + 2);
        // The prompt's leading tokens that the previous classification already ran (the template's header, as a rule)
        // are taken from its keys/values; only the rest goes through the decoder.
        var (reusedEntry, reused) = _prefixCache.Match(ids, imageKey);
        float[][] draftLogits = session.PrefillWithDraft(ids, draft, encoded, _prefixCache, reusedEntry, reused, cancellationToken);

        watch.Restart();
        var greedy = DraftedGreedy.Run(session, ids.Length, draft, draftLogits, _stopTokens, Options.MaxNewTokens, cancellationToken);
        var (output, stepLogits, answerIndex) = (greedy.Output, greedy.StepLogits, greedy.AnswerIndex);
        if (answerIndex < 0)
        {
            // Generation stopped right after "\n\n": take one more step to reach the answer position.
            stepLogits.Add(session.Step(output[^1], cancellationToken));
            answerIndex = output.Count;
        }
        float[] answerLogits = stepLogits[answerIndex];
        int answerPosition = ids.Length + answerIndex; // sequence position whose next-token distribution is the verdict

        // The draft put "unsafe\nS" right at the answer position when the model's own tokens before the verdict were the
        // draft's lead: the logits after its "S" are then the category distribution, whatever the verdict was.
        float[]? forcedLogits = lastForced >= 0 && answerIndex == lead.Length && output.Take(lead.Length).SequenceEqual(lead)
            ? draftLogits[lastForced + 1]
            : null;
        var categories = Options.ComputeCategoryProbabilities
            ? CategoryProbabilities(policy, session, output, stepLogits, answerIndex, answerPosition, forcedLogits, cancellationToken)
            : [];
        var decodeTime = watch.Elapsed;

        _prefixCache.Store(ids, imageKey, session.Cache);

        var textIds = output.Where(t => !_stopTokens.Contains(t)).ToArray();
        string raw = Tokenizer.Decode(textIds);
        var parsed = VerdictParser.Parse(raw, policy);
        total.Stop();
        return new SafetyVerdict(
            parsed.Kind,
            conversation.Task,
            parsed.Categories,
            parsed.UnknownCodes,
            VerdictScoring.Probability(answerLogits, SpecialTokens.Unsafe),
            VerdictScoring.Probability(answerLogits, SpecialTokens.Safe),
            categories,
            raw,
            output,
            ids.Length,
            new ClassificationTimings(LoadTime, preprocessTime, visionTime, session.PrefillTime, decodeTime, total.Elapsed))
        {
            ReusedPromptTokenCount = reused,
        };
    }

    /// <summary>
    /// The draft tree of a classification: <paramref name="lead"/> as a chain, then from its end <c>safe</c> and, when
    /// <paramref name="forced"/> is not empty, the sibling branch <paramref name="forced"/> (<c>unsafe \n S</c>), whose
    /// last token's index is returned in <paramref name="lastForced"/> (−1 without it).
    /// </summary>
    internal static DraftTree VerdictDraft(ReadOnlySpan<int> lead, ReadOnlySpan<int> forced, out int lastForced)
    {
        var tokens = new List<int>();
        var parents = new List<int>();
        foreach (int token in lead)
        {
            parents.Add(tokens.Count - 1);
            tokens.Add(token);
        }
        int verdictParent = tokens.Count - 1;
        lastForced = -1;
        foreach (int token in forced)
        {
            parents.Add(lastForced < 0 ? verdictParent : lastForced);
            lastForced = tokens.Count;
            tokens.Add(token);
        }
        parents.Add(verdictParent);
        tokens.Add(SpecialTokens.Safe);
        return new DraftTree(tokens, parents);
    }

    /// <summary>
    /// The distribution over the policy's category-number tokens after <c>unsafe\nS</c> at the answer position.
    /// Reuses the greedy run's logits when it already wrote <c>unsafe\nS</c>; otherwise rewinds the session to the
    /// answer position and forces those tokens (the prompt and image are not recomputed).
    /// </summary>
    private IReadOnlyList<CategoryProbability> CategoryProbabilities(SafetyPolicy policy, GenerationSession session, List<int> output,
        List<float[]> stepLogits, int answerIndex, int answerPosition, float[]? forcedLogits, CancellationToken cancellationToken)
    {
        var scored = new List<(HazardCategory Category, int Token)>();
        foreach (var category in policy.Categories)
        {
            if (category.Code.Length > 1 && (category.Code[0] is 'S' or 's'))
            {
                var numberIds = Tokenizer.Encode(category.Code[1..], recognizeSpecialTokens: false);
                if (numberIds.Length == 1)
                {
                    scored.Add((category, numberIds[0]));
                }
            }
        }
        if (scored.Count == 0)
        {
            return [];
        }
        int n = _forcedCategoryPrefix.Length;
        float[] logits;
        if (forcedLogits is not null)
        {
            logits = forcedLogits; // from the speculative prefill
        }
        else if (output.Count > answerIndex + n && output.Skip(answerIndex).Take(n).SequenceEqual(_forcedCategoryPrefix))
        {
            logits = stepLogits[answerIndex + n];
        }
        else
        {
            // One pass for the whole forced prefix (weights streamed once, not once per token).
            session.Rewind(answerPosition);
            logits = session.Extend(_forcedCategoryPrefix, cancellationToken);
        }
        var probabilities = VerdictScoring.RestrictedSoftmax(logits, scored.Select(s => s.Token).ToArray());
        return scored.Select((s, i) => new CategoryProbability(s.Category, probabilities[i])).ToArray();
    }

    private static void ValidateOptions(GuardModelOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.Threads, "Threads");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxNewTokens, 1, "MaxNewTokens");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxPromptTokens, 1, "MaxPromptTokens");
        ArgumentOutOfRangeException.ThrowIfNegative(options.ImageCacheSize, "ImageCacheSize");
        ArgumentOutOfRangeException.ThrowIfNegative(options.PromptCacheTokens, "PromptCacheTokens");
        ArgumentNullException.ThrowIfNull(options.ImageDecoder, "ImageDecoder");
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
