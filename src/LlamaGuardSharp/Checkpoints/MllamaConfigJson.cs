namespace LlamaGuardSharp.Checkpoints;

/// <summary>
/// Writes the JSON files of an HF Mllama model folder the way transformers 4.45 writes them (every generic
/// PretrainedConfig key, sorted keys, 2-space indent, trailing newline), so synthetic folders match real ones byte for byte
/// in layout. The golden tiny models' config.json files are reproduced exactly (tested).
/// </summary>
internal static class MllamaConfigJson
{
    /// <summary>The transformers version recorded in the real Llama Guard 3 Vision files.</summary>
    public const string RealTransformersVersion = "4.45.0.dev0";

    /// <summary><c>config.json</c> for <paramref name="config"/>.</summary>
    public static string Config(MllamaConfig config, string transformersVersion = RealTransformersVersion)
    {
        ArgumentNullException.ThrowIfNull(config);
        var root = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { "MllamaForConditionalGeneration" },
            ["image_token_index"] = config.ImageTokenIndex,
            ["model_type"] = "mllama",
            ["text_config"] = Text(config.Text),
            ["torch_dtype"] = "bfloat16",
            ["transformers_version"] = transformersVersion,
            ["vision_config"] = Vision(config.Vision),
        };
        return PythonStyleJson.Serialize(root) + "\n";
    }

    /// <summary><c>preprocessor_config.json</c> (437 bytes for the real 560-pixel model).</summary>
    public static string PreprocessorConfig(MllamaVisionConfig vision)
    {
        ArgumentNullException.ThrowIfNull(vision);
        var root = new Dictionary<string, object?>
        {
            ["do_convert_rgb"] = true,
            ["do_normalize"] = true,
            ["do_pad"] = true,
            ["do_rescale"] = true,
            ["do_resize"] = true,
            ["image_mean"] = new[] { 0.48145466, 0.4578275, 0.40821073 },
            ["image_processor_type"] = "MllamaImageProcessor",
            ["image_std"] = new[] { 0.26862954, 0.26130258, 0.27577711 },
            ["max_image_tiles"] = vision.MaxNumTiles,
            ["resample"] = 2,
            ["rescale_factor"] = 1.0 / 255.0,
            ["size"] = new Dictionary<string, object?> { ["height"] = vision.ImageSize, ["width"] = vision.ImageSize },
        };
        return PythonStyleJson.Serialize(root) + "\n";
    }

    /// <summary>
    /// <c>generation_config.json</c>. <paramref name="instructStyle"/> writes the real model's sampling defaults
    /// (do_sample, temperature 0.6, top_p 0.9: 215 bytes, as in the Hub checkpoint); otherwise the plain form <c>save_pretrained</c>
    /// derives from the model config (as in the golden tiny models).
    /// </summary>
    public static string GenerationConfig(MllamaTextConfig text, bool instructStyle, string transformersVersion = RealTransformersVersion)
    {
        ArgumentNullException.ThrowIfNull(text);
        var root = new Dictionary<string, object?>
        {
            ["bos_token_id"] = text.BosTokenId,
            ["eos_token_id"] = EosValue(text),
            ["pad_token_id"] = text.PadTokenId,
            ["transformers_version"] = transformersVersion,
        };
        if (instructStyle)
        {
            root["do_sample"] = true;
            root["temperature"] = 0.6;
            root["top_p"] = 0.9;
        }
        else
        {
            root["_from_model_config"] = true;
        }
        return PythonStyleJson.Serialize(root) + "\n";
    }

    private static object? EosValue(MllamaTextConfig text) => text.EosTokenIds.Count switch
    {
        0 => null,
        1 => text.EosTokenIds[0],
        _ => text.EosTokenIds.ToArray(),
    };

    private static Dictionary<string, object?> Text(MllamaTextConfig t)
    {
        var d = GenericPretrainedConfigKeys();
        d["bos_token_id"] = t.BosTokenId;
        d["cross_attention_layers"] = t.CrossAttentionLayers.ToArray();
        d["dropout"] = 0;
        d["eos_token_id"] = EosValue(t);
        d["hidden_act"] = "silu";
        d["hidden_size"] = t.HiddenSize;
        d["intermediate_size"] = t.IntermediateSize;
        d["max_position_embeddings"] = t.MaxPositionEmbeddings;
        d["model_type"] = "mllama_text_model";
        d["num_attention_heads"] = t.NumAttentionHeads;
        d["num_hidden_layers"] = t.NumHiddenLayers;
        d["num_key_value_heads"] = t.NumKeyValueHeads;
        d["pad_token_id"] = t.PadTokenId;
        d["rms_norm_eps"] = t.RmsNormEps;
        d["rope_scaling"] = t.RopeScaling is null ? null : new Dictionary<string, object?>
        {
            ["factor"] = new PythonStyleJson.PythonFloat(t.RopeScaling.Factor),
            ["high_freq_factor"] = new PythonStyleJson.PythonFloat(t.RopeScaling.HighFreqFactor),
            ["low_freq_factor"] = new PythonStyleJson.PythonFloat(t.RopeScaling.LowFreqFactor),
            ["original_max_position_embeddings"] = t.RopeScaling.OriginalMaxPositionEmbeddings,
            ["rope_type"] = t.RopeScaling.RopeType,
        };
        d["rope_theta"] = t.RopeTheta;
        d["tie_word_embeddings"] = t.TieWordEmbeddings;
        d["use_cache"] = true;
        d["vocab_size"] = t.VocabSize;
        return d;
    }

    private static Dictionary<string, object?> Vision(MllamaVisionConfig v)
    {
        var d = GenericPretrainedConfigKeys();
        // transformers serialises the head count under the attribute name, not the constructor argument name.
        d["attention_heads"] = v.AttentionHeads;
        d["bos_token_id"] = null;
        d["eos_token_id"] = null;
        d["hidden_act"] = "gelu";
        d["hidden_size"] = v.HiddenSize;
        d["image_size"] = v.ImageSize;
        d["intermediate_layers_indices"] = v.IntermediateLayersIndices.ToArray();
        d["intermediate_size"] = v.IntermediateSize;
        d["max_num_tiles"] = v.MaxNumTiles;
        d["model_type"] = "mllama_vision_model";
        d["norm_eps"] = v.NormEps;
        d["num_channels"] = v.NumChannels;
        d["num_global_layers"] = v.NumGlobalLayers;
        d["num_hidden_layers"] = v.NumHiddenLayers;
        d["pad_token_id"] = null;
        d["patch_size"] = v.PatchSize;
        d["supported_aspect_ratios"] = v.SupportedAspectRatios.Select(p => new[] { p.TilesHigh, p.TilesWide }).ToArray();
        d["tie_word_embeddings"] = true;
        d["vision_output_dim"] = v.VisionOutputDim;
        return d;
    }

    /// <summary>The keys every PretrainedConfig (transformers 4.45) serialises, with their default values.</summary>
    private static Dictionary<string, object?> GenericPretrainedConfigKeys() => new()
    {
        ["_name_or_path"] = "",
        ["add_cross_attention"] = false,
        ["architectures"] = null,
        ["bad_words_ids"] = null,
        ["begin_suppress_tokens"] = null,
        ["chunk_size_feed_forward"] = 0,
        ["cross_attention_hidden_size"] = null,
        ["decoder_start_token_id"] = null,
        ["diversity_penalty"] = 0.0,
        ["do_sample"] = false,
        ["early_stopping"] = false,
        ["encoder_no_repeat_ngram_size"] = 0,
        ["exponential_decay_length_penalty"] = null,
        ["finetuning_task"] = null,
        ["forced_bos_token_id"] = null,
        ["forced_eos_token_id"] = null,
        ["id2label"] = new Dictionary<string, object?> { ["0"] = "LABEL_0", ["1"] = "LABEL_1" },
        ["initializer_range"] = 0.02,
        ["is_decoder"] = false,
        ["is_encoder_decoder"] = false,
        ["label2id"] = new Dictionary<string, object?> { ["LABEL_0"] = 0, ["LABEL_1"] = 1 },
        ["length_penalty"] = 1.0,
        ["max_length"] = 20,
        ["min_length"] = 0,
        ["no_repeat_ngram_size"] = 0,
        ["num_beam_groups"] = 1,
        ["num_beams"] = 1,
        ["num_return_sequences"] = 1,
        ["output_attentions"] = false,
        ["output_hidden_states"] = false,
        ["output_scores"] = false,
        ["prefix"] = null,
        ["problem_type"] = null,
        ["pruned_heads"] = new Dictionary<string, object?>(),
        ["remove_invalid_values"] = false,
        ["repetition_penalty"] = 1.0,
        ["return_dict"] = true,
        ["return_dict_in_generate"] = false,
        ["sep_token_id"] = null,
        ["suppress_tokens"] = null,
        ["task_specific_params"] = null,
        ["temperature"] = 1.0,
        ["tf_legacy_loss"] = false,
        ["tie_encoder_decoder"] = false,
        ["tokenizer_class"] = null,
        ["top_k"] = 50,
        ["top_p"] = 1.0,
        ["torch_dtype"] = null,
        ["torchscript"] = false,
        ["typical_p"] = 1.0,
        ["use_bfloat16"] = false,
    };
}
