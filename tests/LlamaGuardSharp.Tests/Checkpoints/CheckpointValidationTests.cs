using LlamaGuardSharp.Checkpoints;

namespace LlamaGuardSharp.Tests.Checkpoints;

/// <summary>Checkpoints that disagree with their config, and malformed config.json / index files.</summary>
public class CheckpointValidationTests
{
    private const string Model = "mllama_tiny_56";

    private static List<CheckpointFixtures.RawTensor> GoldenRaw() =>
        CheckpointFixtures.ReadAll(Path.Combine(CheckpointFixtures.GoldenModel(Model), "model.safetensors"));

    private static CheckpointFormatException OpenFails(TempDirectory temp, IEnumerable<CheckpointFixtures.RawTensor> tensors)
    {
        CheckpointFixtures.CopyJsonFiles(Model, temp.Path);
        CheckpointFixtures.Write(temp.File("model.safetensors"), tensors);
        return Assert.Throws<CheckpointFormatException>(() => MllamaCheckpoint.Open(temp.Path));
    }

    [Fact]
    public void Missing_tensor_is_named()
    {
        using var temp = new TempDirectory("missing");
        var e = OpenFails(temp, GoldenRaw().Where(t => t.Name != "vision_model.global_transformer.layers.2.gate_ffn"));
        Assert.Equal("vision_model.global_transformer.layers.2.gate_ffn", e.TensorName);
        Assert.Contains("missing", e.Problem, StringComparison.Ordinal);
        // Skipping validation still opens (for tools that inspect partial checkpoints).
        using var partial = MllamaCheckpoint.Open(temp.Path, validate: false);
        Assert.False(partial.Contains("vision_model.global_transformer.layers.2.gate_ffn"));
    }

    [Fact]
    public void Missing_tensor_is_named_in_the_stored_generation()
    {
        using var temp = new TempDirectory("missing-modern");
        var e = OpenFails(temp, GoldenRaw().Where(t => t.Name != "language_model.lm_head.weight")
            .Select(t => t with { Name = TensorNameMapping.ToStored(t.Name, TensorNaming.Modern) }));
        Assert.Equal("lm_head.weight", e.TensorName);
    }

    [Fact]
    public void Unexpected_tensor_is_named()
    {
        using var temp = new TempDirectory("unexpected");
        var extra = new CheckpointFixtures.RawTensor("language_model.model.layers.10.input_layernorm.weight", SafeTensorDType.BF16, [32], new byte[64]);
        var e = OpenFails(temp, GoldenRaw().Append(extra));
        Assert.Equal(extra.Name, e.TensorName);
        Assert.EndsWith("model.safetensors", e.FilePath, StringComparison.Ordinal);
        Assert.Contains("unexpected", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Shape_that_disagrees_with_the_config_is_named()
    {
        using var temp = new TempDirectory("shape");
        // Same byte count, transposed shape: only the config can tell.
        var e = OpenFails(temp, GoldenRaw().Select(t => t.Name == "language_model.model.layers.0.mlp.down_proj.weight" ? t with { Shape = [80, 32] } : t));
        Assert.Equal("language_model.model.layers.0.mlp.down_proj.weight", e.TensorName);
        Assert.Contains("[80, 32]", e.Problem, StringComparison.Ordinal);
        Assert.Contains("[32, 80]", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(SafeTensorDType.F64))]
    [InlineData(nameof(SafeTensorDType.I16))]
    [InlineData(nameof(SafeTensorDType.U8))]
    public void Unsupported_weight_dtype_is_named(string dtypeName)
    {
        var dtype = Enum.Parse<SafeTensorDType>(dtypeName);
        using var temp = new TempDirectory("dtype");
        const string name = "vision_model.layernorm_pre.bias";
        var e = OpenFails(temp, GoldenRaw().Select(t => t.Name == name
            ? t with { DType = dtype, Data = new byte[t.Data.Length / 2 * SafeTensorDTypes.SizeOf(dtype)] }
            : t));
        Assert.Equal(name, e.TensorName);
        Assert.Contains(dtype.ToString(), e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_of_another_model_is_rejected()
    {
        using var temp = new TempDirectory("wrong-config");
        CheckpointFixtures.CopyJsonFiles("mllama_tiny_560", temp.Path);
        File.CreateSymbolicLink(temp.File("model.safetensors"), Path.Combine(CheckpointFixtures.GoldenModel(Model), "model.safetensors"));
        var e = Assert.Throws<CheckpointFormatException>(() => MllamaCheckpoint.Open(temp.Path));
        Assert.NotNull(e.TensorName);
    }

    public static TheoryData<string, string, string> ConfigEdits => new()
    {
        { "malformed JSON", "\"vision_config\": {", "\"vision_config\": {{" },
        { "missing vision_config", "\"vision_config\"", "\"vision_config_renamed\"" },
        { "missing hidden_size", "\"hidden_size\": 48", "\"hidden_size_x\": 48" },
        { "string for an integer", "\"num_hidden_layers\": 10", "\"num_hidden_layers\": \"10\"" },
        { "no head count", "\"attention_heads\": 3", "\"heads\": 3" },
        { "heads do not divide", "\"attention_heads\": 3", "\"attention_heads\": 5" },
        { "wrong model type", "\"model_type\": \"mllama\"", "\"model_type\": \"llama\"" },
        { "cross layer beyond depth", "\"num_hidden_layers\": 10", "\"num_hidden_layers\": 8" },
        { "tap beyond depth", "\"num_hidden_layers\": 8", "\"num_hidden_layers\": 7" },
        { "aspect ratio with too many tiles", "\"max_num_tiles\": 4", "\"max_num_tiles\": 3" },
        { "non-integer aspect ratio", "[\n        4,\n        1\n      ]", "[\n        \"4\",\n        1\n      ]" },
        { "non-integer eos", "128009\n    ]", "\"x\"\n    ]" },
        { "huge number", "\"rms_norm_eps\": 1e-05", "\"rms_norm_eps\": 1e999" },
        { "negative size", "\"intermediate_size\": 96", "\"intermediate_size\": -96" },
        { "patch does not divide", "\"patch_size\": 8", "\"patch_size\": 9" },
        { "absurd text depth", "\"num_hidden_layers\": 10", "\"num_hidden_layers\": 2000000000" },
        { "absurd vision depth", "\"num_global_layers\": 3", "\"num_global_layers\": 2000000000" },
        { "unsupported rope", "\"rope_type\": \"llama3\"", "\"rope_type\": \"yarn\"" },
        { "array root", "{\n  \"architectures\"", "[{\n  \"architectures\"" },
    };

    [Theory]
    [MemberData(nameof(ConfigEdits))]
    public void Bad_config_json_is_a_format_error(string what, string find, string replace)
    {
        using var temp = new TempDirectory("config");
        CheckpointFixtures.CopyJsonFiles(Model, temp.Path);
        string text = File.ReadAllText(temp.File("config.json"));
        Assert.True(text.Contains(find, StringComparison.Ordinal), $"fixture for '{what}' does not apply");
        File.WriteAllText(temp.File("config.json"), ReplaceFirst(text, find, replace));
        File.CreateSymbolicLink(temp.File("model.safetensors"), Path.Combine(CheckpointFixtures.GoldenModel(Model), "model.safetensors"));
        var e = Assert.Throws<CheckpointFormatException>(() => MllamaCheckpoint.Open(temp.Path));
        Assert.EndsWith("config.json", e.FilePath, StringComparison.Ordinal);
    }

    private static string ReplaceFirst(string text, string find, string replace)
    {
        int at = text.IndexOf(find, StringComparison.Ordinal);
        return text[..at] + replace + text[(at + find.Length)..];
    }

    [Fact]
    public void Missing_folder_config_and_weights_are_reported()
    {
        using var temp = new TempDirectory("empty");
        Assert.Throws<DirectoryNotFoundException>(() => MllamaCheckpoint.Open(temp.File("nope")));
        Assert.Contains("config.json", Assert.Throws<CheckpointFormatException>(() => MllamaCheckpoint.Open(temp.Path)).Problem, StringComparison.Ordinal);
        CheckpointFixtures.CopyJsonFiles(Model, temp.Path);
        Assert.Contains("model.safetensors", Assert.Throws<CheckpointFormatException>(() => MllamaCheckpoint.Open(temp.Path)).Problem, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => SafeTensorsFile.Open(temp.File("absent.safetensors")));
    }

    public static TheoryData<string, string, string?> IndexEdits => new()
    {
        { "malformed JSON", "{\"weight_map\": {", null },
        { "array root", "[1, 2]", null },
        { "no weight_map", "{\"metadata\": {}}", null },
        { "empty weight_map", "{\"weight_map\": {}}", null },
        { "non-string shard", "{\"weight_map\": {\"vision_model.class_embedding\": 3}}", "vision_model.class_embedding" },
        { "shard outside the folder", "{\"weight_map\": {\"vision_model.class_embedding\": \"../model-00001-of-00003.safetensors\"}}", null },
        { "empty shard name", "{\"weight_map\": {\"vision_model.class_embedding\": \"\"}}", null },
    };

    [Theory]
    [MemberData(nameof(IndexEdits))]
    public void Bad_index_json_is_a_format_error(string what, string index, string? tensor)
    {
        using var temp = ShardedCopy();
        File.WriteAllText(temp.File("model.safetensors.index.json"), index);
        var e = Assert.Throws<CheckpointFormatException>(() => MllamaCheckpoint.Open(temp.Path));
        Assert.True(e.FilePath.EndsWith("model.safetensors.index.json", StringComparison.Ordinal), what);
        Assert.Equal(tensor, e.TensorName);
    }

    [Fact]
    public void Index_pointing_at_a_missing_shard_names_it()
    {
        using var temp = ShardedCopy();
        File.Delete(temp.File("model-00002-of-00003.safetensors"));
        var e = Assert.Throws<CheckpointFormatException>(() => MllamaCheckpoint.Open(temp.Path));
        Assert.Contains("model-00002-of-00003.safetensors", e.Message, StringComparison.Ordinal);
        Assert.IsType<FileNotFoundException>(e.InnerException);
    }

    [Fact]
    public void Index_and_shards_must_agree()
    {
        using var temp = ShardedCopy();
        string index = File.ReadAllText(temp.File("model.safetensors.index.json"));
        // A tensor mapped to the wrong shard: listed there but absent.
        var map = System.Text.Json.JsonDocument.Parse(index).RootElement.GetProperty("weight_map");
        string name = map.EnumerateObject().First(p => p.Value.GetString() == "model-00001-of-00003.safetensors").Name;
        File.WriteAllText(temp.File("model.safetensors.index.json"), index.Replace(
            $"\"{name}\":\"model-00001-of-00003.safetensors\"", $"\"{name}\":\"model-00002-of-00003.safetensors\"", StringComparison.Ordinal));
        var e = Assert.Throws<CheckpointFormatException>(() => MllamaCheckpoint.Open(temp.Path));
        Assert.Equal(name, e.TensorName);

        // A tensor stored in a shard but not in the map.
        File.WriteAllText(temp.File("model.safetensors.index.json"), index.Replace($"\"{name}\":\"model-00001-of-00003.safetensors\",", "", StringComparison.Ordinal));
        e = Assert.Throws<CheckpointFormatException>(() => MllamaCheckpoint.Open(temp.Path));
        Assert.Equal(name, e.TensorName);
        Assert.EndsWith("model-00001-of-00003.safetensors", e.FilePath, StringComparison.Ordinal);
    }

    [Fact]
    public void Tensor_stored_under_both_generations_is_rejected()
    {
        using var temp = new TempDirectory("twice");
        var raw = GoldenRaw();
        var lm = raw.First(t => t.Name == "language_model.lm_head.weight");
        var e = OpenFails(temp, raw.Append(lm with { Name = "lm_head.weight" }));
        Assert.Contains("twice", e.Problem, StringComparison.Ordinal);
    }

    private static TempDirectory ShardedCopy()
    {
        var temp = new TempDirectory("index");
        CheckpointFixtures.CopyJsonFiles(Model, temp.Path);
        CheckpointFixtures.WriteSharded(temp.Path, GoldenRaw(), 3);
        return temp;
    }
}
