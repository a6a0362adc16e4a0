using System.Text.Json.Nodes;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Tests.Inference;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Hardening;

/// <summary>
/// Family 6 of issue 23: numbers that are not usable numbers. Config values that feed divisions, logarithms and powers
/// are refused at load with the key named; NaN weights make a non-finite logit, which is an error, never a verdict
/// with <c>p(unsafe)=NaN</c>.
/// </summary>
public sealed class NumberRangeTests
{
    private static readonly string TinyConfig = File.ReadAllText(TestData.Golden("models", "mllama_tiny_56", "config.json"));

    private static string Mutate(Action<JsonNode> edit)
    {
        var node = JsonNode.Parse(TinyConfig)!;
        edit(node);
        return node.ToJsonString();
    }

    public static TheoryData<string, string> BadConfigs => new()
    {
        { Mutate(n => n["text_config"]!["rope_theta"] = 0), "'text_config.rope_theta' must be a positive finite number, not 0" },
        { Mutate(n => n["text_config"]!["rope_theta"] = -1), "'text_config.rope_theta' must be a positive finite number, not -1" },
        { Mutate(n => n["text_config"]!["rope_theta"] = 1), "'text_config.rope_theta' must be greater than 1" },
        { Mutate(n => n["text_config"]!["rope_scaling"]!["factor"] = 0), "'text_config.rope_scaling.factor' must be a positive finite number, not 0" },
        { Mutate(n => n["text_config"]!["rope_scaling"]!["low_freq_factor"] = -2), "'text_config.rope_scaling.low_freq_factor' must be a positive" },
        { Mutate(n => n["text_config"]!["rope_scaling"]!["high_freq_factor"] = 0.5), "'text_config.rope_scaling.high_freq_factor' (0.5) is below 'low_freq_factor' (1)" },
        { Mutate(n => n["text_config"]!["rope_scaling"]!["original_max_position_embeddings"] = 0), "original_max_position_embeddings' must be positive" },
        { Mutate(n => n["text_config"]!["rms_norm_eps"] = -1), "'text_config.rms_norm_eps' must be a positive finite number, not -1" },
        { Mutate(n => n["text_config"]!["rms_norm_eps"] = 0), "'text_config.rms_norm_eps' must be a positive finite number, not 0" },
        { Mutate(n => n["vision_config"]!["norm_eps"] = -0.5), "'vision_config.norm_eps' must be a positive finite number, not -0.5" },
        { Mutate(n => n["text_config"]!["max_position_embeddings"] = 0), "'text_config.max_position_embeddings' must be positive" },
        { Mutate(n => n["text_config"]!["eos_token_id"] = new JsonArray(128001, 999999)), "'text_config.eos_token_id' 999999 is outside the vocabulary" },
        { Mutate(n => n["text_config"]!["bos_token_id"] = -3), "'text_config.bos_token_id' -3 is outside the vocabulary" },
        { TinyConfig.Replace("\"rope_theta\": 500000.0", "\"rope_theta\": 1e999"), "'rope_theta' is not a finite number" },
        { TinyConfig.Replace("\"rope_theta\": 500000.0", "\"rope_theta\": NaN"), "config is not valid JSON" },
        { Mutate(n => n["text_config"]!["rope_theta"] = "fast"), "'rope_theta' is not a finite number" },
    };

    [Theory]
    [MemberData(nameof(BadConfigs))]
    public void Out_of_range_config_values_are_refused_at_load_naming_the_key(string json, string expected)
    {
        Assert.Contains("500000.0", TinyConfig); // the mutations above rely on the golden's spelling
        var e = Assert.Throws<CheckpointFormatException>(() => MllamaConfig.Parse(json, "config.json"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cli_refuses_such_a_model_folder_with_one_error_line()
    {
        string dir = TinyGuardModelFixture.AssembleModelFolder("mllama_tiny_56", Path.Combine(Path.GetTempPath(), $"lgs-badcfg-{Guid.NewGuid():N}"));
        try
        {
            foreach (var (mutation, expected) in new (Action<JsonNode>, string)[]
                     {
                         (n => n["text_config"]!["rope_theta"] = 0, "rope_theta"),
                         (n => n["text_config"]!["rope_scaling"]!["factor"] = 0, "rope_scaling.factor"),
                         (n => n["text_config"]!["rms_norm_eps"] = -1, "rms_norm_eps"),
                     })
            {
                File.WriteAllText(Path.Combine(dir, "config.json"), Mutate(mutation));
                var (code, output, error) = await CliRunner.RunAsync("classify", "--model", dir, "--user", "hi", "--json");
                Assert.Equal(1, code);
                Assert.Equal("", output);
                Assert.Contains(expected, Assert.Single(error.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal)));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Nan_weights_give_an_error_not_a_verdict()
    {
        string dir = TinyGuardModelFixture.AssembleModelFolder("mllama_tiny_56", Path.Combine(Path.GetTempPath(), $"lgs-nan-{Guid.NewGuid():N}"));
        try
        {
            string weights = Path.Combine(dir, "model.safetensors");
            TensorInfo norm;
            using (var file = SafeTensorsFile.Open(weights))
            {
                norm = file.Tensors.Single(t => t.Name.EndsWith("norm.weight", StringComparison.Ordinal) && t.Name.Contains("language_model")
                    && !t.Name.Contains("layers", StringComparison.Ordinal));
            }
            byte[] nan = norm.DType switch
            {
                SafeTensorDType.F32 => BitConverter.GetBytes(float.NaN),
                SafeTensorDType.BF16 => [0xC0, 0x7F],
                SafeTensorDType.F16 => [0x00, 0x7E],
                _ => throw new InvalidOperationException($"unexpected dtype {norm.DType}"),
            };
            await using (var stream = new FileStream(weights, FileMode.Open, FileAccess.Write))
            {
                stream.Position = norm.DataOffset;
                for (long i = 0; i < norm.ByteLength; i += nan.Length)
                {
                    stream.Write(nan);
                }
            }

            var (code, output, error) = await CliRunner.RunAsync("classify", "--model", dir, "--user", "hi", "--json");
            Assert.Equal(1, code);
            Assert.Equal("", output);
            Assert.Contains("non-finite logit", Assert.Single(error.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal)));

            using var guard = await GuardModel.LoadAsync(dir);
            await Assert.ThrowsAsync<ModelOutputException>(() => guard.ClassifyAsync(LlamaGuardSharp.Safety.Conversation.ForPrompt("hi")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Scoring_refuses_non_finite_logits()
    {
        Assert.Throws<ModelOutputException>(() => VerdictScoring.Probability([1f, float.NaN, 2f], 0));
        Assert.Throws<ModelOutputException>(() => VerdictScoring.Probability([1f, float.PositiveInfinity], 0));
        Assert.Throws<ModelOutputException>(() => VerdictScoring.RestrictedSoftmax([float.NegativeInfinity, 1f], [0, 1]));
        Assert.Equal(0.5, VerdictScoring.Probability([3f, 3f], 0), 12);
    }
}
