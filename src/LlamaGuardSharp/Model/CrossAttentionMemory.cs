using LlamaGuardSharp.Checkpoints;

namespace LlamaGuardSharp.Model;

/// <summary>
/// The cross-attention keys (after k_norm) and values of every cross-attention layer, computed once per request
/// from the projected vision states and reused by every prompt and decode token. Layout per layer:
/// [visionTokens, kvHeads, headDim], vision tokens ordered image, tile, token. Immutable once built, until
/// <see cref="Release"/> hands its arrays back to the model's pool.
/// </summary>
internal sealed class CrossAttentionMemory
{
    private readonly float[]?[] _keys;
    private readonly float[]?[] _values;
    private readonly ActivationPool? _pool; // where the arrays go back on Release (null: not pooled)
    private bool _released;

    internal CrossAttentionMemory(float[]?[] keys, float[]?[] values, int images, int tilesPerImage, int tokensPerTile, ActivationPool? pool = null)
    {
        _keys = keys;
        _values = values;
        _pool = pool;
        Images = images;
        TilesPerImage = tilesPerImage;
        TokensPerTile = tokensPerTile;
    }

    public int Images { get; }

    public int TilesPerImage { get; }

    /// <summary>Vision tokens per tile (the block size of the cross-attention mask).</summary>
    public int TokensPerTile { get; }

    /// <summary>Total keys: images · tiles · tokens per tile.</summary>
    public int Keys => Images * TilesPerImage * TokensPerTile;

    /// <summary>Bytes one image's memory takes for <paramref name="config"/>: keys and values of every cross-attention
    /// layer, [max tiles · tokens per tile, kvHeads, headDim] floats each (≈ 420 MB for Llama Guard 3 Vision).</summary>
    public static long BytesPerImage(MllamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var text = config.Text;
        return 2L * text.CrossAttentionLayers.Count * config.Vision.MaxNumTiles * config.Vision.TokensPerTile
            * text.NumKeyValueHeads * text.HeadDim * sizeof(float);
    }

    internal float[] KeysOf(int layer) => _keys[layer] ?? throw Missing(layer);

    internal float[] ValuesOf(int layer) => _values[layer] ?? throw Missing(layer);

    /// <summary>
    /// Hands the arrays back to the model's pool, so that the next image's encoding writes into memory the process has
    /// already touched instead of leaving ≈ 420 MB (real size) of garbage per image for the collector; the memory must
    /// not be used afterwards. No effect on a memory without a pool or one already released.
    /// </summary>
    internal void Release() => ActivationPool.ReleaseOnce(_pool, ref _released, _keys, _values);

    private Exception Missing(int layer) => _released
        ? new ObjectDisposedException(nameof(CrossAttentionMemory), "The cross-attention memory's arrays were handed back to the model's pool.")
        : new InvalidOperationException($"Layer {layer} is not a cross-attention layer.");
}
