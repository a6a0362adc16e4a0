namespace LlamaGuardSharp.Checkpoints;

/// <summary>What a tensor is for; decides how synthetic weights are drawn and documents the inventory.</summary>
internal enum MllamaTensorRole
{
    /// <summary>A Linear or Conv2d weight; <see cref="ExpectedTensor.FanIn"/> is its input width.</summary>
    LinearWeight,

    /// <summary>The output projection to the vocabulary.</summary>
    LmHead,

    /// <summary>A Linear bias.</summary>
    Bias,

    /// <summary>A LayerNorm / RMSNorm scale (≈ 1).</summary>
    NormWeight,

    /// <summary>A LayerNorm shift.</summary>
    NormBias,

    /// <summary>A one-element gate (tanh applied at run time).</summary>
    Gate,

    /// <summary>The token embedding table (vocab + 8 rows).</summary>
    TokenEmbedding,

    /// <summary>The vision CLS token.</summary>
    ClassEmbedding,

    /// <summary>The per-position embedding of a tile.</summary>
    PositionalEmbedding,

    /// <summary>A per-aspect-ratio table [max_aspect_ratio_id + 1, max_num_tiles · n]; row 0 is unused.</summary>
    AspectRatioTable,
}

/// <summary>One tensor an Mllama checkpoint must contain: canonical (legacy) name, shape, role.</summary>
internal sealed record ExpectedTensor(string Name, long[] Shape, MllamaTensorRole Role, long FanIn = 0)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// The exact tensor inventory of an HF Mllama checkpoint derived from its config (docs/checkpoints.md): every name and shape,
/// in module order (vision model, language model, projector), the order transformers' state dict and our synthetic
/// shards use. The model has no optional weights, so a checkpoint must hold exactly these.
/// </summary>
internal static class MllamaTensorInventory
{
    /// <summary>The inventory for <paramref name="config"/>.</summary>
    public static IReadOnlyList<ExpectedTensor> For(MllamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var list = new List<ExpectedTensor>(1024);
        AddVision(list, config.Vision);
        AddText(list, config.Text);
        list.Add(new ExpectedTensor("multi_modal_projector.weight", [config.Text.HiddenSize, config.Vision.VisionOutputDim], MllamaTensorRole.LinearWeight, config.Vision.VisionOutputDim));
        list.Add(new ExpectedTensor("multi_modal_projector.bias", [config.Text.HiddenSize], MllamaTensorRole.Bias));
        return list;
    }

    /// <summary>Total number of parameters (10,670,220,835 for Llama Guard 3 11B Vision).</summary>
    public static long ParameterCount(MllamaConfig config) => For(config).Sum(t => t.ElementCount);

    private static void AddVision(List<ExpectedTensor> list, MllamaVisionConfig v)
    {
        const string p = "vision_model.";
        long h = v.HiddenSize;
        long rows = v.MaxAspectRatioId + 1;
        list.Add(new(p + "class_embedding", [h], MllamaTensorRole.ClassEmbedding));
        list.Add(new(p + "patch_embedding.weight", [h, v.NumChannels, v.PatchSize, v.PatchSize], MllamaTensorRole.LinearWeight, (long)v.NumChannels * v.PatchSize * v.PatchSize));
        list.Add(new(p + "gated_positional_embedding.embedding", [v.TokensPerTile, h], MllamaTensorRole.PositionalEmbedding));
        list.Add(new(p + "gated_positional_embedding.gate", [1], MllamaTensorRole.Gate));
        list.Add(new(p + "gated_positional_embedding.tile_embedding.weight", [rows, checked(v.MaxNumTiles * v.TokensPerTile * h)], MllamaTensorRole.AspectRatioTable));
        list.Add(new(p + "pre_tile_positional_embedding.embedding.weight", [rows, v.MaxNumTiles * h], MllamaTensorRole.AspectRatioTable));
        list.Add(new(p + "pre_tile_positional_embedding.gate", [1], MllamaTensorRole.Gate));
        list.Add(new(p + "post_tile_positional_embedding.embedding.weight", [rows, v.MaxNumTiles * h], MllamaTensorRole.AspectRatioTable));
        list.Add(new(p + "post_tile_positional_embedding.gate", [1], MllamaTensorRole.Gate));
        list.Add(new(p + "layernorm_pre.weight", [h], MllamaTensorRole.NormWeight));
        list.Add(new(p + "layernorm_pre.bias", [h], MllamaTensorRole.NormBias));
        for (int i = 0; i < v.NumHiddenLayers; i++)
        {
            AddVisionLayer(list, $"{p}transformer.layers.{i}.", v, gated: false);
        }
        list.Add(new(p + "layernorm_post.weight", [h], MllamaTensorRole.NormWeight));
        list.Add(new(p + "layernorm_post.bias", [h], MllamaTensorRole.NormBias));
        for (int i = 0; i < v.NumGlobalLayers; i++)
        {
            AddVisionLayer(list, $"{p}global_transformer.layers.{i}.", v, gated: true);
        }
    }

    private static void AddVisionLayer(List<ExpectedTensor> list, string p, MllamaVisionConfig v, bool gated)
    {
        long h = v.HiddenSize;
        long m = v.IntermediateSize;
        foreach (string proj in new[] { "q_proj", "k_proj", "v_proj", "o_proj" })
        {
            list.Add(new($"{p}self_attn.{proj}.weight", [h, h], MllamaTensorRole.LinearWeight, h));
        }
        list.Add(new(p + "mlp.fc1.weight", [m, h], MllamaTensorRole.LinearWeight, h));
        list.Add(new(p + "mlp.fc1.bias", [m], MllamaTensorRole.Bias));
        list.Add(new(p + "mlp.fc2.weight", [h, m], MllamaTensorRole.LinearWeight, m));
        list.Add(new(p + "mlp.fc2.bias", [h], MllamaTensorRole.Bias));
        list.Add(new(p + "input_layernorm.weight", [h], MllamaTensorRole.NormWeight));
        list.Add(new(p + "input_layernorm.bias", [h], MllamaTensorRole.NormBias));
        list.Add(new(p + "post_attention_layernorm.weight", [h], MllamaTensorRole.NormWeight));
        list.Add(new(p + "post_attention_layernorm.bias", [h], MllamaTensorRole.NormBias));
        if (gated)
        {
            list.Add(new(p + "gate_attn", [1], MllamaTensorRole.Gate));
            list.Add(new(p + "gate_ffn", [1], MllamaTensorRole.Gate));
        }
    }

    private static void AddText(List<ExpectedTensor> list, MllamaTextConfig t)
    {
        const string p = "language_model.model.";
        long h = t.HiddenSize;
        long kv = (long)t.NumKeyValueHeads * t.HeadDim;
        long m = t.IntermediateSize;
        // Meta's learnable embedding adds 8 rows after the vocabulary (row vocab_size is <|image|>).
        list.Add(new(p + "embed_tokens.weight", [t.VocabSize + 8L, h], MllamaTensorRole.TokenEmbedding));
        for (int i = 0; i < t.NumHiddenLayers; i++)
        {
            string l = $"{p}layers.{i}.";
            bool cross = t.IsCrossAttentionLayer(i);
            string attn = cross ? "cross_attn" : "self_attn";
            list.Add(new($"{l}{attn}.q_proj.weight", [h, h], MllamaTensorRole.LinearWeight, h));
            list.Add(new($"{l}{attn}.k_proj.weight", [kv, h], MllamaTensorRole.LinearWeight, h));
            list.Add(new($"{l}{attn}.v_proj.weight", [kv, h], MllamaTensorRole.LinearWeight, h));
            list.Add(new($"{l}{attn}.o_proj.weight", [h, h], MllamaTensorRole.LinearWeight, h));
            if (cross)
            {
                list.Add(new($"{l}cross_attn.q_norm.weight", [t.HeadDim], MllamaTensorRole.NormWeight));
                list.Add(new($"{l}cross_attn.k_norm.weight", [t.HeadDim], MllamaTensorRole.NormWeight));
                list.Add(new($"{l}cross_attn_attn_gate", [1], MllamaTensorRole.Gate));
                list.Add(new($"{l}cross_attn_mlp_gate", [1], MllamaTensorRole.Gate));
            }
            list.Add(new($"{l}input_layernorm.weight", [h], MllamaTensorRole.NormWeight));
            list.Add(new($"{l}mlp.gate_proj.weight", [m, h], MllamaTensorRole.LinearWeight, h));
            list.Add(new($"{l}mlp.up_proj.weight", [m, h], MllamaTensorRole.LinearWeight, h));
            list.Add(new($"{l}mlp.down_proj.weight", [h, m], MllamaTensorRole.LinearWeight, m));
            list.Add(new($"{l}post_attention_layernorm.weight", [h], MllamaTensorRole.NormWeight));
        }
        list.Add(new(p + "norm.weight", [h], MllamaTensorRole.NormWeight));
        list.Add(new("language_model.lm_head.weight", [t.VocabSize, h], MllamaTensorRole.LmHead, h));
    }
}
