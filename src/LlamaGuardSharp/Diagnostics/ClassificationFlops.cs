using LlamaGuardSharp.Checkpoints;

namespace LlamaGuardSharp.Diagnostics;

/// <summary>
/// FLOPs of one classification, counted as docs/performance.md counts them: a multiply-add is 2 FLOPs, attention matmuls are full
/// squares (causal halves are not subtracted), norms/softmax/elementwise work is ignored. The vision encoder always runs
/// all tile slots (reference semantics), so its cost does not depend on the image's tile count.
/// </summary>
internal static class ClassificationFlops
{
    /// <param name="promptTokens">Prompt length L (prefill).</param>
    /// <param name="decodeSteps">Tokens fed through single-token decode steps after the prefill.</param>
    /// <param name="images">Images in the prompt (0: text-only, cross-attention layers skipped).</param>
    public static StageFlops Estimate(MllamaConfig config, int promptTokens, int decodeSteps, int images)
    {
        ArgumentNullException.ThrowIfNull(config);
        var v = config.Vision;
        var t = config.Text;
        double vision = 0, projector = 0, crossKv = 0;
        int memoryTokens = 0;
        if (images > 0)
        {
            int tiles = v.MaxNumTiles;
            double s = (double)tiles * v.PaddedTokensPerTile;
            double patches = (double)tiles * v.PatchesPerSide * v.PatchesPerSide;
            double patchEmbedding = 2 * patches * v.NumChannels * v.PatchSize * v.PatchSize * v.HiddenSize;
            double perLayer = 2 * s * 4.0 * v.HiddenSize * v.HiddenSize   // q, k, v, o
                            + 2 * s * 2.0 * v.HiddenSize * v.IntermediateSize // fc1, fc2
                            + 4 * s * s * v.HiddenSize;                       // scores and weighted sum
            vision = images * (patchEmbedding + perLayer * (v.NumHiddenLayers + v.NumGlobalLayers));
            memoryTokens = images * tiles * v.TokensPerTile;
            projector = 2.0 * memoryTokens * v.VisionOutputDim * t.HiddenSize;
            int kvDim = t.NumKeyValueHeads * t.HeadDim;
            crossKv = t.CrossAttentionLayers.Count * 2 * (2.0 * memoryTokens * t.HiddenSize * kvDim);
        }
        double prefill = TextFlops(t, tokens: promptTokens, context: promptTokens, memoryTokens, images > 0);
        double decode = 0;
        for (int i = 0; i < decodeSteps; i++)
        {
            decode += TextFlops(t, tokens: 1, context: promptTokens + i + 1, memoryTokens, images > 0);
        }
        // One lm_head row per produced distribution: the prefill's last row and every decode step.
        double head = (1 + decodeSteps) * 2.0 * t.HiddenSize * t.VocabSize;
        return new StageFlops(vision, projector + crossKv, prefill, decode + head);
    }

    private static double TextFlops(MllamaTextConfig t, int tokens, int context, int memoryTokens, bool withImages)
    {
        double d = t.HiddenSize, kv = t.NumKeyValueHeads * t.HeadDim, n = tokens;
        double mlp = 2 * n * 3 * d * t.IntermediateSize;
        double self = 2 * n * (2 * d * d + 2 * d * kv) + mlp + 4 * n * context * d;
        double cross = 2 * n * (2 * d * d) + mlp + 4 * n * memoryTokens * d;
        int crossLayers = t.CrossAttentionLayers.Count;
        return (t.NumHiddenLayers - crossLayers) * self + (withImages ? crossLayers * cross : 0);
    }
}

/// <summary>FLOPs per stage of one classification.</summary>
/// <param name="Vision">Vision encoder (patch embedding, 40 layers with attention).</param>
/// <param name="CrossAttentionStates">Projector and the cross-attention K/V of every cross layer (once per image).</param>
/// <param name="Prefill">Text decoder over the prompt.</param>
/// <param name="Decode">Decode steps plus every lm_head row.</param>
internal sealed record StageFlops(double Vision, double CrossAttentionStates, double Prefill, double Decode)
{
    public double Total => Vision + CrossAttentionStates + Prefill + Decode;
}
