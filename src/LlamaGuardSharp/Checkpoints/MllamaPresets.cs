namespace LlamaGuardSharp.Checkpoints;

/// <summary>Known Mllama configurations, and depth-reduced variants that keep every width.</summary>
internal static class MllamaPresets
{
    /// <summary>The real Llama Guard 3 11B Vision configuration (its config.json on the Hub; docs/checkpoints.md).</summary>
    public static MllamaConfig LlamaGuard3_11BVision() => new(
        new MllamaVisionConfig(
            HiddenSize: 1280, AttentionHeads: 16, IntermediateSize: 5120, NumHiddenLayers: 32, NumGlobalLayers: 8,
            IntermediateLayersIndices: [3, 7, 15, 23, 30], VisionOutputDim: 7680, ImageSize: 560, PatchSize: 14, NumChannels: 3,
            MaxNumTiles: 4, SupportedAspectRatios: RealAspectRatios, NormEps: 1e-5),
        RealText(hidden: 4096, intermediate: 14336, layers: 40, heads: 32, kvHeads: 8),
        ImageTokenIndex: 128256);

    /// <summary>
    /// A tiny configuration with the structure of the golden <c>mllama_tiny_56</c> model (56-pixel tiles, 8 + 3 vision
    /// layers, 10 text layers with cross-attention at 3 and 8, real vocabulary): megabytes instead of gigabytes.
    /// </summary>
    public static MllamaConfig Tiny() => new(
        new MllamaVisionConfig(
            HiddenSize: 48, AttentionHeads: 3, IntermediateSize: 96, NumHiddenLayers: 8, NumGlobalLayers: 3,
            IntermediateLayersIndices: [1, 3, 4, 6, 7], VisionOutputDim: 288, ImageSize: 56, PatchSize: 8, NumChannels: 3,
            MaxNumTiles: 4, SupportedAspectRatios: RealAspectRatios, NormEps: 1e-5),
        RealText(hidden: 32, intermediate: 80, layers: 10, heads: 4, kvHeads: 2),
        ImageTokenIndex: 128256);

    /// <summary>
    /// <paramref name="config"/> with fewer layers and every width unchanged. Text: cross-attention layers follow the real
    /// pattern 3, 8, 13, … (every fifth layer from 3) below the new depth. Vision: the intermediate layer taps keep their
    /// count (so vision_output_dim and the projector keep their widths) and are rescaled to the new depth, kept distinct
    /// and increasing; the real taps are kept when they all fit. Null leaves a count unchanged.
    /// </summary>
    public static MllamaConfig WithDepth(MllamaConfig config, int? visionLayers = null, int? globalLayers = null, int? textLayers = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var v = config.Vision;
        var t = config.Text;
        foreach (int? count in new[] { visionLayers, globalLayers, textLayers })
        {
            if (count > MllamaConfig.MaxLayers)
            {
                throw new ArgumentOutOfRangeException(nameof(config), count, $"at most {MllamaConfig.MaxLayers} layers per stack");
            }
        }
        if (visionLayers is int vl && vl != v.NumHiddenLayers)
        {
            int taps = v.IntermediateLayersIndices.Count;
            if (vl < taps)
            {
                throw new ArgumentOutOfRangeException(nameof(visionLayers), vl, $"need at least {taps} local vision layers (one per intermediate tap)");
            }
            v = v with { NumHiddenLayers = vl, IntermediateLayersIndices = RescaleTaps(v.IntermediateLayersIndices, v.NumHiddenLayers, vl) };
        }
        if (globalLayers is int gl)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(gl, nameof(globalLayers));
            v = v with { NumGlobalLayers = gl };
        }
        if (textLayers is int tl && tl != t.NumHiddenLayers)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(tl, 1, nameof(textLayers));
            t = t with { NumHiddenLayers = tl, CrossAttentionLayers = CrossLayersFor(tl) };
        }
        return config with { Vision = v, Text = t };
    }

    /// <summary>The real cross-attention pattern cut to <paramref name="textLayers"/>: 3, 8, 13, … &lt; depth.</summary>
    public static int[] CrossLayersFor(int textLayers) =>
        Enumerable.Range(0, Math.Max(0, (textLayers - 3 + 4) / 5)).Select(k => 3 + 5 * k).Where(i => i < textLayers).ToArray();

    private static readonly (int, int)[] RealAspectRatios = [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2), (3, 1), (4, 1)];

    private static MllamaTextConfig RealText(int hidden, int intermediate, int layers, int heads, int kvHeads) => new(
        VocabSize: 128256, HiddenSize: hidden, IntermediateSize: intermediate, NumHiddenLayers: layers,
        CrossAttentionLayers: CrossLayersFor(layers), NumAttentionHeads: heads, NumKeyValueHeads: kvHeads, RmsNormEps: 1e-5,
        RopeTheta: 500000, RopeScaling: new RopeScaling("llama3", 8, 1, 4, 8192), MaxPositionEmbeddings: 131072,
        BosTokenId: 128000, EosTokenIds: [128001, 128008, 128009], PadTokenId: 128004, TieWordEmbeddings: false);

    private static int[] RescaleTaps(IReadOnlyList<int> taps, int oldDepth, int newDepth)
    {
        if (taps.All(i => i < newDepth))
        {
            return taps.ToArray();
        }
        var result = taps.Select(i => (int)((long)i * newDepth / oldDepth)).ToArray();
        for (int k = 1; k < result.Length; k++)
        {
            result[k] = Math.Max(result[k], result[k - 1] + 1);
        }
        for (int k = result.Length - 1; k >= 0; k--)
        {
            result[k] = Math.Min(result[k], newDepth - (result.Length - k));
            if (k < result.Length - 1)
            {
                result[k] = Math.Min(result[k], result[k + 1] - 1);
            }
        }
        return result;
    }
}
