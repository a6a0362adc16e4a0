using LlamaGuardSharp.Compute;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Prompting;

namespace LlamaGuardSharp.Inference;

/// <summary>How a <see cref="GuardModel"/> loads and classifies.</summary>
public sealed record GuardModelOptions
{
    public static GuardModelOptions Default { get; } = new();

    /// <summary>Prompt layout: the HF chat template (default; what the Hub model is used with) or Meta's native layout.</summary>
    public PromptLayout Layout { get; init; } = PromptLayout.HuggingFace;

    /// <summary>Cross-attention semantics for text before the image: HF (default, what the goldens and the Hub model
    /// compute) or Meta's reference (<c>--cross-attention meta|hf</c> in the CLI).</summary>
    public CrossAttentionMasking CrossAttentionMasking { get; init; } = CrossAttentionMasking.HuggingFace;

    /// <summary>
    /// Arithmetic of the linear layers: <see cref="ComputePrecision.Fp32"/> (default; float32 over the checkpoint's bf16
    /// weights, what the goldens check) or <see cref="ComputePrecision.Int8"/> (per-channel int8 weights from the int8
    /// sidecar, activations quantized per row, AVX-VNNI dot products; faster and half the weight memory, with a small,
    /// measured drift: docs/int8.md). <c>--precision fp32|int8</c> in the CLI.
    /// </summary>
    public ComputePrecision Precision { get; init; } = ComputePrecision.Fp32;

    /// <summary>
    /// With <see cref="ComputePrecision.Int8"/>: the int8 sidecar file, or a folder holding <c>llamaguard-int8.safetensors</c>
    /// (what <c>llamaguard quantize --out DIR</c> writes). Null (default): that file in the model folder.
    /// </summary>
    public string? Int8SidecarPath { get; init; }

    /// <summary>Compute threads; 0 = all cores. At most <see cref="MaxThreads"/>.</summary>
    public int Threads { get; init; }

    /// <summary>Largest <see cref="Threads"/> accepted (docs/limits.md).</summary>
    public const int MaxThreads = 256;

    /// <summary>When set, every kernel call of this model adds its wall time to it (profiling; <c>llamaguard bench --profile</c>).</summary>
    internal KernelProfile? KernelProfile { get; init; }

    /// <summary>Greedy decoding limit. 20 covers every verdict of the default policy except the longest category lists; 32 covers all.
    /// 1 to <see cref="MaxNewTokensLimit"/>.</summary>
    public int MaxNewTokens { get; init; } = DefaultMaxNewTokens;

    /// <summary>
    /// Largest <see cref="MaxNewTokens"/> accepted: the longest verdict of the default policy (<c>unsafe\nS1,S2,…,S13</c>)
    /// is under 40 tokens; the bound keeps the decoder's key/value memory, which grows with every token, bounded.
    /// </summary>
    public const int MaxNewTokensLimit = 128;

    /// <summary>The default of <see cref="MaxNewTokens"/>, the one place it is written.</summary>
    internal const int DefaultMaxNewTokens = 20;

    /// <summary>Longest prompt accepted, in tokens (prompt template included). Longer conversations are rejected with a clear error.
    /// 1 to <see cref="MaxPromptTokensLimit"/>.</summary>
    public int MaxPromptTokens { get; init; } = 8192;

    /// <summary>Largest <see cref="MaxPromptTokens"/> accepted: the text model's context (<c>max_position_embeddings</c>).</summary>
    public const int MaxPromptTokensLimit = 131072;

    /// <summary>Largest <see cref="ImageCacheSize"/> accepted (≈ 420 MB per entry for the real model).</summary>
    public const int MaxImageCacheSize = 16;

    /// <summary>Largest <see cref="PromptCacheTokens"/> accepted (≈ 256 KB per token and entry for the real model).</summary>
    public const int MaxPromptCacheTokens = 8192;

    /// <summary>
    /// Whether to compute per-category probabilities. They come from draft tokens run with the prompt (no decode step)
    /// when the model's first token is the expected one (<c>\n\n</c> in the HF layout), else from one extra pass.
    /// </summary>
    public bool ComputeCategoryProbabilities { get; init; } = true;

    /// <summary>
    /// How many encoded images (vision tower, projector, cross-attention keys/values; ≈ 420 MB each for the real model)
    /// to keep between classifications, keyed by the image bytes' SHA-256: classifying the prompt and then the response
    /// of one exchange encodes its image once. Default 1; 0 turns the cache off. The model keeps none when the
    /// checkpoint, the activations and the cache would not fit in physical memory together (the mapped weights would be
    /// evicted instead); <see cref="GuardModel.ImageCacheCapacity"/> says what it uses.
    /// </summary>
    public int ImageCacheSize { get; init; } = 1;

    /// <summary>
    /// How many leading prompt tokens' keys and values to keep, for each of the last two prompts (one per task when
    /// prompt and response classifications alternate), for the next classifications: ≈ 256 KB per token for the real
    /// model, so 512 tokens × 2 ≈ 256 MB. Prompts of one task and policy share the template's header (≈ 140 tokens of a
    /// ≈ 200-token text-only prompt), so the next such prompt runs only its remaining tokens through the decoder; reuse
    /// needs the same image (or none). The result is bit-identical to a full prefill. Default 512; 0 turns it off. None
    /// is kept when it would not fit in physical memory next to the checkpoint; <see cref="GuardModel.PromptCacheCapacity"/>
    /// says what is used, and <see cref="SafetyVerdict.ReusedPromptTokenCount"/> how many tokens a classification reused.
    /// </summary>
    public int PromptCacheTokens { get; init; } = 512;

    /// <summary>
    /// After loading, read the weights into the OS page cache in the background, in the order a classification uses them
    /// (Linux), so that the first classification after a cold start does not wait on page faults (the text weights arrive
    /// while the vision encoder runs; for the real-size checkpoint the first classification is then about a quarter faster).
    /// Skipped when the checkpoint does not fit in physical memory next to the activations. Default on.
    /// </summary>
    public bool PrefetchWeights { get; init; } = true;

    /// <summary>
    /// Run a blocking full garbage collection after each classification. Off by default: the library does not impose
    /// collections on the host process, and a classification leaves little large garbage (the activations, KV caches and
    /// image encodings are pooled and handed back explicitly). A host that runs nothing else and wants the lowest peak
    /// memory between requests can turn it on; it lowers the peak anonymous memory by a few hundred MB
    /// (docs/performance-log.md, "No forced collection").
    /// </summary>
    public bool CollectGarbageAfterClassification { get; init; }

    /// <summary>Limits and options of the image decoder (size, pixel count, EXIF orientation).</summary>
    public ImageDecoderOptions ImageDecoder { get; init; } = new();
}
