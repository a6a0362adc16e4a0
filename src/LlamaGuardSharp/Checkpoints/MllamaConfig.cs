using System.Text.Json;
using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Checkpoints;

/// <summary>llama3 RoPE frequency scaling (docs/model.md).</summary>
public sealed record RopeScaling(string RopeType, double Factor, double LowFreqFactor, double HighFreqFactor, int OriginalMaxPositionEmbeddings);

/// <summary><c>vision_config</c> of an Mllama <c>config.json</c>.</summary>
public sealed record MllamaVisionConfig(
    int HiddenSize,
    int AttentionHeads,
    int IntermediateSize,
    int NumHiddenLayers,
    int NumGlobalLayers,
    IReadOnlyList<int> IntermediateLayersIndices,
    int VisionOutputDim,
    int ImageSize,
    int PatchSize,
    int NumChannels,
    int MaxNumTiles,
    IReadOnlyList<(int TilesHigh, int TilesWide)> SupportedAspectRatios,
    double NormEps)
{
    public int HeadDim => HiddenSize / AttentionHeads;

    /// <summary>Patches per side of a tile (40 for 560/14).</summary>
    public int PatchesPerSide => ImageSize / PatchSize;

    /// <summary>Tokens per tile: patches + CLS (1601 for the real model).</summary>
    public int TokensPerTile => PatchesPerSide * PatchesPerSide + 1;

    /// <summary>Tokens per tile padded to a multiple of 8 (1608), as the encoder runs it.</summary>
    public int PaddedTokensPerTile => TokensPerTile + (8 - TokensPerTile % 8) % 8;

    /// <summary>Largest aspect-ratio id (ids are 1-based; row 0 of the tile embeddings is unused).</summary>
    public int MaxAspectRatioId => SupportedAspectRatios.Count;
}

/// <summary><c>text_config</c> of an Mllama <c>config.json</c>.</summary>
public sealed record MllamaTextConfig(
    int VocabSize,
    int HiddenSize,
    int IntermediateSize,
    int NumHiddenLayers,
    IReadOnlyList<int> CrossAttentionLayers,
    int NumAttentionHeads,
    int NumKeyValueHeads,
    double RmsNormEps,
    double RopeTheta,
    RopeScaling? RopeScaling,
    int MaxPositionEmbeddings,
    int BosTokenId,
    IReadOnlyList<int> EosTokenIds,
    int? PadTokenId,
    bool TieWordEmbeddings)
{
    public int HeadDim => HiddenSize / NumAttentionHeads;

    public bool IsCrossAttentionLayer(int layer) => CrossAttentionLayers.Contains(layer);
}

/// <summary>
/// An Mllama <c>config.json</c> (as transformers writes it). Accepts both spellings of the vision head count
/// (<c>attention_heads</c>, written by transformers, and <c>num_attention_heads</c>, the constructor argument).
/// </summary>
public sealed record MllamaConfig(MllamaVisionConfig Vision, MllamaTextConfig Text, int ImageTokenIndex)
{
    /// <summary>
    /// Largest layer count accepted per stack (the real model has 40 text and 32 + 8 vision layers): a hostile config
    /// must not make the tensor inventory, which has one entry per layer weight, allocate without bound.
    /// </summary>
    public const int MaxLayers = 1024;

    /// <summary>Reads and validates <paramref name="path"/> (a config.json).</summary>
    public static MllamaConfig Load(string path)
    {
        string text;
        try
        {
            text = BoundedFile.ReadAllText(path, BoundedFile.MaxConfigBytes, "config");
        }
        catch (IOException e)
        {
            throw new CheckpointFormatException(path, null, $"cannot read config ({e.Message})", e);
        }
        return Parse(text, path);
    }

    /// <summary>Parses config JSON; <paramref name="source"/> names the file in error messages.</summary>
    public static MllamaConfig Parse(string json, string source = "config.json")
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(source, null, $"config is not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(source, null, "config is not a JSON object");
            }
            var reader = new ConfigReader(source);
            string? modelType = reader.OptionalString(root, "model_type");
            if (modelType is not null && modelType != "mllama")
            {
                throw new CheckpointFormatException(source, null, $"model_type is '{modelType}', expected 'mllama'");
            }
            var vision = ParseVision(reader, reader.Object(root, "vision_config"));
            var textConfig = ParseText(reader, reader.Object(root, "text_config"));
            int imageToken = reader.OptionalInt(root, "image_token_index") ?? 128256;
            return new MllamaConfig(vision, textConfig, imageToken);
        }
    }

    private static MllamaVisionConfig ParseVision(ConfigReader r, JsonElement v)
    {
        int hidden = r.Int(v, "hidden_size");
        int heads = r.OptionalInt(v, "attention_heads") ?? r.OptionalInt(v, "num_attention_heads")
            ?? throw r.Error("vision_config has neither 'attention_heads' nor 'num_attention_heads'");
        var indices = r.IntArray(v, "intermediate_layers_indices");
        var ratios = r.OptionalArray(v, "supported_aspect_ratios")?.Select(pair =>
        {
            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2)
            {
                throw r.Error("supported_aspect_ratios entries must be [tiles_high, tiles_wide] pairs");
            }
            var items = pair.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int n) ? n
                : throw r.Error("supported_aspect_ratios entries must hold integers")).ToArray();
            return (items[0], items[1]);
        }).ToList() ?? [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2), (3, 1), (4, 1)];
        var config = new MllamaVisionConfig(
            hidden, heads,
            r.Int(v, "intermediate_size"),
            r.Int(v, "num_hidden_layers"),
            r.Int(v, "num_global_layers"),
            indices,
            r.OptionalInt(v, "vision_output_dim") ?? hidden * (indices.Count + 1),
            r.Int(v, "image_size"),
            r.Int(v, "patch_size"),
            r.OptionalInt(v, "num_channels") ?? 3,
            r.OptionalInt(v, "max_num_tiles") ?? 4,
            ratios,
            r.OptionalDouble(v, "norm_eps") ?? 1e-5);
        if (hidden <= 0 || heads <= 0 || hidden % heads != 0)
        {
            throw r.Error($"vision hidden_size {hidden} is not a positive multiple of {heads} heads");
        }
        if (config.NumHiddenLayers > MaxLayers || config.NumGlobalLayers > MaxLayers)
        {
            throw r.Error($"vision_config has more than {MaxLayers} layers");
        }
        if (config.IntermediateSize <= 0 || config.NumHiddenLayers < 0 || config.NumGlobalLayers < 0 || config.NumChannels <= 0
            || config.MaxNumTiles <= 0 || config.ImageSize <= 0 || ratios.Count == 0)
        {
            throw r.Error("vision_config has a non-positive size, layer count, channel count, tile count or no aspect ratios");
        }
        if (config.PatchSize <= 0 || config.ImageSize % config.PatchSize != 0)
        {
            throw r.Error($"vision image_size {config.ImageSize} is not a multiple of patch_size {config.PatchSize}");
        }
        if (config.VisionOutputDim != hidden * (indices.Count + 1))
        {
            throw r.Error($"vision_output_dim {config.VisionOutputDim} != hidden_size × (1 + {indices.Count} intermediate layers)");
        }
        if (indices.Any(i => i < 0 || i >= config.NumHiddenLayers))
        {
            throw r.Error("intermediate_layers_indices has an index outside the local layers");
        }
        if (ratios.Any(p => p.Item1 <= 0 || p.Item2 <= 0 || p.Item1 * p.Item2 > config.MaxNumTiles))
        {
            throw r.Error("supported_aspect_ratios has a pair with more tiles than max_num_tiles");
        }
        r.Positive("vision_config.norm_eps", config.NormEps);
        return config;
    }

    private static MllamaTextConfig ParseText(ConfigReader r, JsonElement t)
    {
        int hidden = r.Int(t, "hidden_size");
        int heads = r.Int(t, "num_attention_heads");
        int kvHeads = r.OptionalInt(t, "num_key_value_heads") ?? heads;
        int layers = r.Int(t, "num_hidden_layers");
        var cross = r.IntArray(t, "cross_attention_layers");
        RopeScaling? scaling = null;
        if (t.TryGetProperty("rope_scaling", out var rs) && rs.ValueKind == JsonValueKind.Object)
        {
            string type = r.OptionalString(rs, "rope_type") ?? r.OptionalString(rs, "type") ?? "default";
            scaling = new RopeScaling(type,
                r.OptionalDouble(rs, "factor") ?? 1,
                r.OptionalDouble(rs, "low_freq_factor") ?? 1,
                r.OptionalDouble(rs, "high_freq_factor") ?? 1,
                r.OptionalInt(rs, "original_max_position_embeddings") ?? 8192);
            if (type is not ("llama3" or "default"))
            {
                throw r.Error($"rope_scaling type '{type}' is not supported (expected 'llama3')");
            }
        }
        IReadOnlyList<int> eos = t.TryGetProperty("eos_token_id", out var e) ? e.ValueKind switch
        {
            JsonValueKind.Number => [TokenId(r, e)],
            JsonValueKind.Array => e.EnumerateArray().Select(x => TokenId(r, x)).ToArray(),
            _ => [],
        } : [];
        if (hidden <= 0 || heads <= 0 || hidden % heads != 0 || kvHeads <= 0 || heads % kvHeads != 0)
        {
            throw r.Error($"text hidden_size {hidden}, {heads} heads and {kvHeads} KV heads are inconsistent");
        }
        if (layers < 0 || layers > MaxLayers || r.Int(t, "vocab_size") <= 0 || r.Int(t, "intermediate_size") <= 0)
        {
            throw r.Error($"text_config has a layer count outside 0..{MaxLayers} or a non-positive vocab_size or intermediate_size");
        }
        if (cross.Any(i => i < 0 || i >= layers) || cross.Distinct().Count() != cross.Count)
        {
            throw r.Error("cross_attention_layers has a duplicate or an index outside num_hidden_layers");
        }
        var config = new MllamaTextConfig(
            r.Int(t, "vocab_size"), hidden, r.Int(t, "intermediate_size"), layers, cross, heads, kvHeads,
            r.OptionalDouble(t, "rms_norm_eps") ?? 1e-5,
            r.OptionalDouble(t, "rope_theta") ?? 500000,
            scaling,
            r.OptionalInt(t, "max_position_embeddings") ?? 131072,
            r.OptionalInt(t, "bos_token_id") ?? 128000,
            eos,
            r.OptionalInt(t, "pad_token_id"),
            t.TryGetProperty("tie_word_embeddings", out var tie) && tie.ValueKind == JsonValueKind.True);
        ValidateTextRanges(r, config);
        return config;
    }

    /// <summary>
    /// The numbers that feed divisions, logarithms and powers must be positive (and are finite: <see cref="ConfigReader.OptionalDouble"/>
    /// refuses NaN and infinities): a zero or negative rope_theta, scaling factor or epsilon gives NaN activations, and
    /// every token id must index the vocabulary.
    /// </summary>
    private static void ValidateTextRanges(ConfigReader r, MllamaTextConfig c)
    {
        r.Positive("text_config.rms_norm_eps", c.RmsNormEps);
        r.Positive("text_config.rope_theta", c.RopeTheta);
        if (c.RopeTheta <= 1)
        {
            // inv_freq = theta^(-2i/d): theta 1 gives every dimension the same frequency, below 1 rising ones.
            throw r.Error($"'text_config.rope_theta' must be greater than 1, not {c.RopeTheta}");
        }
        if (c.MaxPositionEmbeddings <= 0)
        {
            throw r.Error($"'text_config.max_position_embeddings' must be positive, not {c.MaxPositionEmbeddings}");
        }
        if (c.RopeScaling is { } s)
        {
            r.Positive("text_config.rope_scaling.factor", s.Factor);
            r.Positive("text_config.rope_scaling.low_freq_factor", s.LowFreqFactor);
            r.Positive("text_config.rope_scaling.high_freq_factor", s.HighFreqFactor);
            if (s.HighFreqFactor < s.LowFreqFactor)
            {
                throw r.Error($"'text_config.rope_scaling.high_freq_factor' ({s.HighFreqFactor}) is below 'low_freq_factor' ({s.LowFreqFactor})");
            }
            if (s.OriginalMaxPositionEmbeddings <= 0)
            {
                throw r.Error($"'text_config.rope_scaling.original_max_position_embeddings' must be positive, not {s.OriginalMaxPositionEmbeddings}");
            }
        }
        foreach (var (name, id) in c.EosTokenIds.Select(id => ("eos_token_id", (int?)id))
                     .Append(("bos_token_id", c.BosTokenId)).Append(("pad_token_id", c.PadTokenId)))
        {
            if (id is { } value && (value < 0 || value >= c.VocabSize))
            {
                throw r.Error($"'text_config.{name}' {value} is outside the vocabulary 0..{c.VocabSize - 1}");
            }
        }
    }

    private static int TokenId(ConfigReader r, JsonElement e) =>
        e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int id) ? id : throw r.Error("eos_token_id must hold integers");

    /// <summary>Typed access to config keys with errors that name the file and key.</summary>
    private sealed class ConfigReader(string source)
    {
        public CheckpointFormatException Error(string problem) => new(source, null, problem);

        /// <summary>Refuses a value that is not a positive finite number, naming the key.</summary>
        public void Positive(string key, double value)
        {
            if (!(value > 0) || !double.IsFinite(value))
            {
                throw Error($"'{key}' must be a positive finite number, not {value.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            }
        }

        public JsonElement Object(JsonElement parent, string key) =>
            parent.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Object ? v : throw Error($"missing object '{key}'");

        public int Int(JsonElement parent, string key) =>
            OptionalInt(parent, key) ?? throw Error($"missing integer '{key}'");

        public int? OptionalInt(JsonElement parent, string key)
        {
            if (!parent.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }
            return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw Error($"'{key}' is not an integer");
        }

        public double? OptionalDouble(JsonElement parent, string key)
        {
            if (!parent.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null)
            {
                return null;
            }
            return v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out double d) && double.IsFinite(d) ? d : throw Error($"'{key}' is not a finite number");
        }

        public string? OptionalString(JsonElement parent, string key) =>
            parent.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

        public JsonElement[]? OptionalArray(JsonElement parent, string key) =>
            parent.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToArray() : null;

        public IReadOnlyList<int> IntArray(JsonElement parent, string key)
        {
            var items = OptionalArray(parent, key) ?? throw Error($"missing array '{key}'");
            return items.Select(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out int i) ? i : throw Error($"'{key}' must hold integers")).ToArray();
        }
    }
}
