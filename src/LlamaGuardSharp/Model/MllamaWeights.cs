using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Model;

/// <summary>Weights of one vision transformer block (local blocks have gates of 1).</summary>
internal sealed record VisionLayerWeights(
    float[] Norm1Weight, float[] Norm1Bias,
    WeightMatrix Wq, WeightMatrix Wk, WeightMatrix Wv, WeightMatrix Wo,
    float[] Norm2Weight, float[] Norm2Bias,
    WeightMatrix Fc1, float[] Fc1Bias, WeightMatrix Fc2, float[] Fc2Bias,
    float AttentionGate, float MlpGate);

/// <summary>The vision encoder's weights. Gates are stored as tanh(stored value), the factor the forward pass uses.</summary>
internal sealed record VisionWeights(
    WeightMatrix PatchEmbedding,
    float[] ClassEmbedding,
    float[] PositionalEmbedding,
    float PositionalGate,
    WeightMatrix TileEmbedding,
    float[] PreTileEmbedding,
    float PreTileGate,
    float[] PostTileEmbedding,
    float PostTileGate,
    float[] LayerNormPreWeight, float[] LayerNormPreBias,
    float[] LayerNormPostWeight, float[] LayerNormPostBias,
    IReadOnlyList<VisionLayerWeights> LocalLayers,
    IReadOnlyList<VisionLayerWeights> GlobalLayers);

/// <summary>The SwiGLU feed-forward block of a decoder layer with its RMSNorm: down(SiLU(gate·x) ⊙ up·x).</summary>
internal sealed record DecoderMlpWeights(float[] Norm, WeightMatrix Gate, WeightMatrix Up, WeightMatrix Down);

/// <summary>A text decoder layer: either <see cref="SelfAttentionLayerWeights"/> or <see cref="CrossAttentionLayerWeights"/>.</summary>
internal abstract record DecoderLayerWeights(float[] InputNorm, WeightMatrix Wq, WeightMatrix Wk, WeightMatrix Wv, WeightMatrix Wo, DecoderMlpWeights Mlp);

/// <summary>A Llama self-attention decoder block.</summary>
internal sealed record SelfAttentionLayerWeights(
    float[] InputNorm, WeightMatrix Wq, WeightMatrix Wk, WeightMatrix Wv, WeightMatrix Wo, DecoderMlpWeights Mlp)
    : DecoderLayerWeights(InputNorm, Wq, Wk, Wv, Wo, Mlp);

/// <summary>A gated cross-attention decoder block (gates stored as tanh of the checkpoint value).</summary>
internal sealed record CrossAttentionLayerWeights(
    float[] InputNorm, WeightMatrix Wq, WeightMatrix Wk, WeightMatrix Wv, WeightMatrix Wo, DecoderMlpWeights Mlp,
    float[] QNorm, float[] KNorm, float AttentionGate, float MlpGate)
    : DecoderLayerWeights(InputNorm, Wq, Wk, Wv, Wo, Mlp);

/// <summary>The text decoder's weights, layers in index order.</summary>
internal sealed record TextWeights(
    WeightMatrix Embedding, IReadOnlyList<DecoderLayerWeights> Layers, float[] FinalNorm, WeightMatrix LmHead);

/// <summary>
/// Every tensor of an Mllama checkpoint, addressed once: large matrices stay in the checkpoint's memory map as
/// <see cref="WeightMatrix"/>, small vectors are widened to float32, gates become tanh(gate). Shapes are checked here
/// so that the forward pass can trust them.
/// </summary>
internal sealed record MllamaWeights(VisionWeights Vision, WeightMatrix ProjectorWeight, float[] ProjectorBias, TextWeights Text)
{
    /// <summary>
    /// The large matrices in the order a classification first reads them: vision encoder layers, projector, text decoder
    /// layers, lm_head (what <see cref="WeightPrefetcher"/> reads ahead). The token embedding is left out: a prompt reads
    /// only its own rows of it.
    /// </summary>
    public IReadOnlyList<WeightMatrix> MatricesInUseOrder()
    {
        var list = new List<WeightMatrix> { Vision.PatchEmbedding, Vision.TileEmbedding };
        foreach (VisionLayerWeights layer in Vision.LocalLayers.Concat(Vision.GlobalLayers))
        {
            list.AddRange([layer.Wq, layer.Wk, layer.Wv, layer.Wo, layer.Fc1, layer.Fc2]);
        }
        list.Add(ProjectorWeight);
        foreach (DecoderLayerWeights layer in Text.Layers)
        {
            list.AddRange([layer.Wq, layer.Wk, layer.Wv, layer.Wo, layer.Mlp.Gate, layer.Mlp.Up, layer.Mlp.Down]);
        }
        list.Add(Text.LmHead);
        return list;
    }

    private const string V = "vision_model.";
    private const string T = "language_model.model.";

    /// <param name="checkpoint">The checkpoint.</param>
    /// <param name="int8">When given, the weights it quantizes come from it (int8) instead of the checkpoint.</param>
    public static MllamaWeights Load(MllamaCheckpoint checkpoint, Int8Sidecar? int8 = null)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var reader = new Reader(checkpoint, int8);
        var config = checkpoint.Config;
        var vision = LoadVision(reader, config.Vision);
        var projector = reader.Matrix("multi_modal_projector.weight", config.Text.HiddenSize, config.Vision.VisionOutputDim);
        var projectorBias = reader.Vector("multi_modal_projector.bias", config.Text.HiddenSize);
        return new MllamaWeights(vision, projector, projectorBias, LoadText(reader, config.Text));
    }

    private static VisionWeights LoadVision(Reader r, MllamaVisionConfig c)
    {
        int d = c.HiddenSize, tiles = c.MaxNumTiles, p = c.TokensPerTile, ratios = c.MaxAspectRatioId + 1;
        var local = Enumerable.Range(0, c.NumHiddenLayers).Select(i => LoadVisionLayer(r, c, $"{V}transformer.layers.{i}.", gated: false)).ToArray();
        var global = Enumerable.Range(0, c.NumGlobalLayers).Select(i => LoadVisionLayer(r, c, $"{V}global_transformer.layers.{i}.", gated: true)).ToArray();
        return new VisionWeights(
            r.Matrix($"{V}patch_embedding.weight", d, c.NumChannels * c.PatchSize * c.PatchSize),
            r.Vector($"{V}class_embedding", d),
            r.Vector($"{V}gated_positional_embedding.embedding", p * d),
            r.Gate($"{V}gated_positional_embedding.gate"),
            r.Matrix($"{V}gated_positional_embedding.tile_embedding.weight", ratios, tiles * p * d),
            r.Vector($"{V}pre_tile_positional_embedding.embedding.weight", ratios * tiles * d),
            r.Gate($"{V}pre_tile_positional_embedding.gate"),
            r.Vector($"{V}post_tile_positional_embedding.embedding.weight", ratios * tiles * d),
            r.Gate($"{V}post_tile_positional_embedding.gate"),
            r.Vector($"{V}layernorm_pre.weight", d), r.Vector($"{V}layernorm_pre.bias", d),
            r.Vector($"{V}layernorm_post.weight", d), r.Vector($"{V}layernorm_post.bias", d),
            local, global);
    }

    private static VisionLayerWeights LoadVisionLayer(Reader r, MllamaVisionConfig c, string prefix, bool gated)
    {
        int d = c.HiddenSize, f = c.IntermediateSize;
        return new VisionLayerWeights(
            r.Vector(prefix + "input_layernorm.weight", d), r.Vector(prefix + "input_layernorm.bias", d),
            r.Matrix(prefix + "self_attn.q_proj.weight", d, d), r.Matrix(prefix + "self_attn.k_proj.weight", d, d),
            r.Matrix(prefix + "self_attn.v_proj.weight", d, d), r.Matrix(prefix + "self_attn.o_proj.weight", d, d),
            r.Vector(prefix + "post_attention_layernorm.weight", d), r.Vector(prefix + "post_attention_layernorm.bias", d),
            r.Matrix(prefix + "mlp.fc1.weight", f, d), r.Vector(prefix + "mlp.fc1.bias", f),
            r.Matrix(prefix + "mlp.fc2.weight", d, f), r.Vector(prefix + "mlp.fc2.bias", d),
            gated ? r.Gate(prefix + "gate_attn") : 1f,
            gated ? r.Gate(prefix + "gate_ffn") : 1f);
    }

    private static TextWeights LoadText(Reader r, MllamaTextConfig c)
    {
        int d = c.HiddenSize, f = c.IntermediateSize, hd = c.HeadDim;
        int qDim = c.NumAttentionHeads * hd, kvDim = c.NumKeyValueHeads * hd;
        var layers = new DecoderLayerWeights[c.NumHiddenLayers];
        for (int i = 0; i < layers.Length; i++)
        {
            string p = $"{T}layers.{i}.";
            var mlp = new DecoderMlpWeights(
                r.Vector(p + "post_attention_layernorm.weight", d),
                r.Matrix(p + "mlp.gate_proj.weight", f, d), r.Matrix(p + "mlp.up_proj.weight", f, d), r.Matrix(p + "mlp.down_proj.weight", d, f));
            if (c.IsCrossAttentionLayer(i))
            {
                layers[i] = new CrossAttentionLayerWeights(
                    r.Vector(p + "input_layernorm.weight", d),
                    r.Matrix(p + "cross_attn.q_proj.weight", qDim, d), r.Matrix(p + "cross_attn.k_proj.weight", kvDim, d),
                    r.Matrix(p + "cross_attn.v_proj.weight", kvDim, d), r.Matrix(p + "cross_attn.o_proj.weight", d, qDim),
                    mlp,
                    r.Vector(p + "cross_attn.q_norm.weight", hd), r.Vector(p + "cross_attn.k_norm.weight", hd),
                    r.Gate(p + "cross_attn_attn_gate"), r.Gate(p + "cross_attn_mlp_gate"));
            }
            else
            {
                layers[i] = new SelfAttentionLayerWeights(
                    r.Vector(p + "input_layernorm.weight", d),
                    r.Matrix(p + "self_attn.q_proj.weight", qDim, d), r.Matrix(p + "self_attn.k_proj.weight", kvDim, d),
                    r.Matrix(p + "self_attn.v_proj.weight", kvDim, d), r.Matrix(p + "self_attn.o_proj.weight", d, qDim),
                    mlp);
            }
        }
        var embedding = r.Matrix($"{T}embed_tokens.weight", null, d);
        if (embedding.Rows < c.VocabSize)
        {
            throw r.Error($"{T}embed_tokens.weight", $"has {embedding.Rows} rows, fewer than vocab_size {c.VocabSize}");
        }
        var lmHead = r.Matrix("language_model.lm_head.weight", null, d);
        return new TextWeights(embedding, layers, r.Vector($"{T}norm.weight", d), lmHead);
    }

    /// <summary>Reads tensors by canonical name and checks their sizes.</summary>
    private sealed class Reader(MllamaCheckpoint checkpoint, Int8Sidecar? int8)
    {
        public CheckpointFormatException Error(string name, string problem) => new(checkpoint.Directory, name, problem);

        public WeightMatrix Matrix(string name, int? rows, int cols)
        {
            if (int8 is not null && int8.Contains(name))
            {
                // Shapes were validated against the config when the sidecar was opened (lm_head: vocab_size rows).
                return int8.GetMatrix(name, rows ?? checkpoint.Config.Text.VocabSize, cols);
            }
            var m = checkpoint.GetMatrix(name);
            if ((rows is int n && m.Rows != n) || m.Cols != cols)
            {
                throw Error(name, $"has shape {checkpoint.GetInfo(name).ShapeText}, expected [{rows?.ToString() ?? "*"}, {cols}] (as a matrix)");
            }
            return m;
        }

        public float[] Vector(string name, int length)
        {
            var values = checkpoint.ReadSingles(name);
            if (values.Length != length)
            {
                throw Error(name, $"has {values.Length} values ({checkpoint.GetInfo(name).ShapeText}), expected {length}");
            }
            return values;
        }

        /// <summary>tanh of a stored one-element gate (the references apply tanh to the stored value on every use).</summary>
        public float Gate(string name) => MathF.Tanh(checkpoint.ReadScalar(name));
    }
}
