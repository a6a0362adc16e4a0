using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Compute;
using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Model;

/// <summary>
/// A loaded Mllama (Llama 3.2 Vision / Llama Guard 3 Vision) model: vision encoder, projector and text decoder over the
/// weights of an open <see cref="MllamaCheckpoint"/> (used in place; keep the checkpoint open while the model is used).
/// All members are thread-safe: per-request state lives in <see cref="KvCache"/> / <see cref="CrossAttentionMemory"/>
/// objects owned by the caller (see <c>Inference.GenerationSession</c>).
/// </summary>
internal sealed class MllamaModel
{
    private readonly ActivationPool _pool;

    private MllamaModel(MllamaConfig config, GuardModelOptions options, VisionEncoder vision, MultiModalProjector projector, TextDecoder text,
        IReadOnlyList<int> stopTokenIds, IReadOnlyList<WeightMatrix> matricesInUseOrder, ActivationPool pool, long weightBytes)
    {
        _pool = pool;
        WeightBytes = weightBytes;
        MatricesInUseOrder = matricesInUseOrder;
        StopTokenIds = stopTokenIds;
        Config = config;
        Options = options;
        Vision = vision;
        Projector = projector;
        Text = text;
    }

    public MllamaConfig Config { get; }

    /// <summary>The large weight matrices in the order a forward pass first reads them (for page-cache readahead).</summary>
    internal IReadOnlyList<WeightMatrix> MatricesInUseOrder { get; }

    /// <summary>
    /// Bytes of mapped weights a classification may read: the checkpoint's tensors, with the int8 sidecar (whole) in place
    /// of the bf16 tensors it replaces. What must fit in memory beside the caches.
    /// </summary>
    internal long WeightBytes { get; }

    /// <summary>The options it was loaded with (cross-attention masking, threads, kernel profile).</summary>
    public GuardModelOptions Options { get; }

    public VisionEncoder Vision { get; }

    public MultiModalProjector Projector { get; }

    public TextDecoder Text { get; }

    /// <summary>
    /// Tokens that end generation by default: <see cref="ConfiguredStopTokenIds"/>. Empty when the checkpoint names none
    /// (the tokenizer's end tokens then apply: <c>Inference.VerdictTokens.ResolveStopTokens</c>).
    /// </summary>
    public IReadOnlyList<int> StopTokenIds { get; }

    /// <summary><c>eos_token_id</c> of generation_config.json when present, else of config.json's text_config (may be empty).</summary>
    public static IReadOnlyList<int> ConfiguredStopTokenIds(MllamaCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return GenerationConfig.ReadEosTokenIds(checkpoint.Directory) ?? checkpoint.Config.Text.EosTokenIds;
    }

    /// <summary>Id of the <c>&lt;|image|&gt;</c> token.</summary>
    public int ImageTokenId => Config.ImageTokenIndex;

    /// <summary>
    /// Binds the model to the checkpoint's tensors (validating every shape); no weight is copied except small vectors.
    /// Of <paramref name="options"/> (default <see cref="GuardModelOptions.Default"/>) the model uses
    /// <see cref="GuardModelOptions.CrossAttentionMasking"/>, <see cref="GuardModelOptions.Threads"/> and
    /// <see cref="GuardModelOptions.KernelProfile"/>.
    /// </summary>
    public static MllamaModel Load(MllamaCheckpoint checkpoint, GuardModelOptions? options = null) =>
        Load(checkpoint, options, ActivationPool.DefaultMinPooledLength);

    /// <param name="minPooledLength">Activation arrays shorter than this are not kept between images (tests pass 1, so
    /// that the tiny golden models run through the pool too).</param>
    internal static MllamaModel Load(MllamaCheckpoint checkpoint, GuardModelOptions? options, long minPooledLength)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        options ??= GuardModelOptions.Default;
        var context = new ComputeContext(options.Threads, options.KernelProfile);
        Int8Sidecar? int8 = null;
        if (options.Precision == ComputePrecision.Int8)
        {
            if (!GemmInt8.IsAccelerated)
            {
                throw new PlatformNotSupportedException(
                    "--precision int8 needs AVX-VNNI, which this CPU does not have (the scalar int8 reference would be far slower than fp32).");
            }
            int8 = Int8Sidecar.Open(Int8Sidecar.ResolvePath(options.Int8SidecarPath ?? checkpoint.Directory), checkpoint);
            checkpoint.AddCompanion(int8);
        }
        var weights = MllamaWeights.Load(checkpoint, int8);
        var config = checkpoint.Config;
        IReadOnlyList<int> stops = ConfiguredStopTokenIds(checkpoint);
        // The vision side's large buffers (and the projected states) are kept between images: see ActivationPool.
        var pool = new ActivationPool(VisionEncoder.PooledBytesPerEncode(config.Vision) + StatesBytesPerImage(config), minPooledLength);
        // The text side's KV caches, layer buffers and one image's cross-attention memory likewise (a pool of their own, so
        // neither side crowds the other out).
        var textPool = new ActivationPool(TextDecoder.PooledBytes(config.Text) + CrossAttentionMemory.BytesPerImage(config), minPooledLength);
        return new MllamaModel(config, options,
            new VisionEncoder(config.Vision, weights.Vision, context, pool, int8Attention: int8 is not null),
            new MultiModalProjector(weights.ProjectorWeight, weights.ProjectorBias, context),
            new TextDecoder(config.Text, weights.Text, context, options.CrossAttentionMasking, textPool),
            stops, weights.MatricesInUseOrder(), pool, MappedWeightBytes(checkpoint, int8));
    }

    private static long MappedWeightBytes(MllamaCheckpoint checkpoint, Int8Sidecar? int8) =>
        int8 is null
            ? checkpoint.TotalTensorBytes
            : checkpoint.TotalTensorBytes + int8.FileLength
                - Int8Sidecar.QuantizedWeights(checkpoint.Config).Sum(w => checkpoint.TensorBytes(w.Name));

    private static long StatesBytesPerImage(MllamaConfig config) =>
        (long)config.Vision.MaxNumTiles * config.Vision.TokensPerTile * config.Text.HiddenSize * sizeof(float);

    /// <summary>Bytes of activation arrays kept for reuse between images now (at most ≈ 0.9 GB for Llama Guard 3 Vision).</summary>
    internal long RetainedActivationBytes => _pool.KeptBytes;

    /// <summary>
    /// Encodes and projects every image: the cross-attention states [images · tiles · tokensPerTile, D], image-major.
    /// </summary>
    public float[] ComputeCrossAttentionStates(IReadOnlyList<VisionInput> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        int perImage = Config.Vision.MaxNumTiles * Config.Vision.TokensPerTile * Config.Text.HiddenSize;
        var states = _pool.Rent((long)images.Count * perImage);
        for (int i = 0; i < images.Count; i++)
        {
            var features = Vision.Encode(images[i], cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
            Projector.Project(features, states.AsSpan(i * perImage, perImage));
            _pool.Return(features);
        }
        return states;
    }

    /// <summary>Cross-attention keys/values for every cross layer from states made by <see cref="ComputeCrossAttentionStates"/>.</summary>
    public CrossAttentionMemory BuildCrossAttentionMemory(ReadOnlySpan<float> crossAttentionStates, int images) =>
        Text.BuildCrossAttentionMemory(crossAttentionStates, images, Config.Vision.MaxNumTiles, Config.Vision.TokensPerTile);

    /// <summary>Runs the vision side once for <paramref name="images"/>; reusable by several prompts.</summary>
    public EncodedImages EncodeImages(IReadOnlyList<VisionInput> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0)
        {
            throw new ModelInputException("No images to encode.");
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();
        float[] states = ComputeCrossAttentionStates(images, cancellationToken);
        var memory = BuildCrossAttentionMemory(states, images.Count);
        _pool.Return(states);
        return new EncodedImages(memory, images.Select(i => i.NumTiles).ToArray(), watch.Elapsed);
    }

    /// <summary>The cross-attention mask of a prompt, from its image tokens and the images' tile counts.</summary>
    public CrossAttentionMask BuildCrossAttentionMask(ReadOnlySpan<int> ids, IReadOnlyList<VisionInput> images) =>
        BuildCrossAttentionMask(ids, images.Select(i => i.NumTiles).ToArray());

    /// <summary>The cross-attention mask of a prompt, from its image tokens and each image's real tile count.</summary>
    public CrossAttentionMask BuildCrossAttentionMask(ReadOnlySpan<int> ids, IReadOnlyList<int> numTiles) =>
        CrossAttentionMask.FromTokenIds(ids, ImageTokenId, numTiles, Config.Vision.MaxNumTiles);
}
