using System.Security.Cryptography;
using System.Text.Json;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Cli;
using System.CommandLine;

namespace LlamaGuardSharp.Tests.Checkpoints;

public class SyntheticCheckpointTests
{
    [Fact]
    public void Tiny_checkpoint_validates_and_is_deterministic()
    {
        using var a = new TempDirectory("synth-a");
        using var b = new TempDirectory("synth-b");
        using var c = new TempDirectory("synth-c");
        var config = MllamaPresets.Tiny();
        var result = SyntheticCheckpointWriter.Write(config, a.Path, new SyntheticCheckpointOptions(Seed: 7));
        // Different parallelism, same bytes: generation is counter-based.
        SyntheticCheckpointWriter.Write(config, b.Path, new SyntheticCheckpointOptions(Seed: 7, MaxDegreeOfParallelism: 1));
        SyntheticCheckpointWriter.Write(config, c.Path, new SyntheticCheckpointOptions(Seed: 8));

        Assert.Equal(MllamaTensorInventory.For(config).Count, result.TensorCount);
        Assert.Equal(Hash(a.File("model.safetensors")), Hash(b.File("model.safetensors")));
        Assert.NotEqual(Hash(a.File("model.safetensors")), Hash(c.File("model.safetensors")));
        using var checkpoint = MllamaCheckpoint.Open(a.Path);
        Assert.Equal(config.Vision, checkpoint.Config.Vision with
        {
            IntermediateLayersIndices = config.Vision.IntermediateLayersIndices,
            SupportedAspectRatios = config.Vision.SupportedAspectRatios,
        });
        Assert.Equal(result.TensorBytes, checkpoint.TotalTensorBytes);
        Assert.Equal(result.Files.Sum(f => f.Bytes), result.TotalBytes);
    }

    [Fact]
    public void Weights_follow_the_documented_scales()
    {
        using var temp = new TempDirectory("synth-stats");
        var config = MllamaPresets.Tiny();
        SyntheticCheckpointWriter.Write(config, temp.Path, new SyntheticCheckpointOptions(Seed: 3));
        using var checkpoint = MllamaCheckpoint.Open(temp.Path);

        static (double Mean, double Std) Stats(float[] v)
        {
            double mean = v.Average(x => (double)x);
            return (mean, Math.Sqrt(v.Average(x => (x - mean) * (x - mean))));
        }

        var (meanDown, stdDown) = Stats(checkpoint.ReadSingles("language_model.model.layers.0.mlp.down_proj.weight"));
        Assert.InRange(stdDown, 0.9 / Math.Sqrt(80), 1.1 / Math.Sqrt(80));
        Assert.InRange(meanDown, -0.02, 0.02);
        var (_, stdEmbed) = Stats(checkpoint.ReadSingles("language_model.model.embed_tokens.weight"));
        Assert.InRange(stdEmbed, 0.98, 1.02);
        var (_, stdHead) = Stats(checkpoint.ReadSingles("language_model.lm_head.weight"));
        Assert.InRange(stdHead, 0.98 / Math.Sqrt(32), 1.02 / Math.Sqrt(32));
        var (meanNorm, stdNorm) = Stats(checkpoint.ReadSingles("vision_model.transformer.layers.0.input_layernorm.weight"));
        Assert.InRange(meanNorm, 0.99, 1.01);
        Assert.InRange(stdNorm, 0.005, 0.05);
        var gates = MllamaTensorInventory.For(config).Where(t => t.Role == MllamaTensorRole.Gate).Select(t => checkpoint.ReadScalar(t.Name)).ToArray();
        Assert.All(gates, g => Assert.InRange(Math.Abs(g), 0.0999f, 0.5001f));
        Assert.Contains(gates, g => g < 0);
        Assert.Contains(gates, g => g > 0);

        // Tile tables: row 0 and slots beyond the aspect ratio's tiles are zero, used slots are not.
        float[] table = checkpoint.ReadSingles("vision_model.pre_tile_positional_embedding.embedding.weight");
        int width = 4 * config.Vision.HiddenSize;
        int slot = config.Vision.HiddenSize;
        Assert.All(table.Take(width), v => Assert.Equal(0f, v));
        for (int a = 1; a <= 8; a++)
        {
            var (h, w) = config.Vision.SupportedAspectRatios[a - 1];
            for (int t = 0; t < 4; t++)
            {
                var values = table.Skip(a * width + t * slot).Take(slot).ToArray();
                Assert.Equal(t >= h * w, values.All(v => v == 0));
            }
        }
    }

    [Fact]
    public void Vector_generation_equals_the_scalar_definition()
    {
        var config = MllamaPresets.Tiny();
        var tensor = new ExpectedTensor("x", [1000, 97], MllamaTensorRole.LinearWeight, 97);
        ulong seed = SyntheticWeights.TensorSeed(11, tensor.Name);
        foreach (var (start, length) in new (long, int)[] { (0, 97_000), (13, 1000), (5, 31), (40_001, 33) })
        {
            var buffer = new ushort[length];
            SyntheticWeights.FillBf16(tensor, config.Vision, seed, start, buffer);
            for (int i = 0; i < length; i++)
            {
                Assert.Equal(SyntheticWeights.ToBf16(SyntheticWeights.Value(tensor, config.Vision, seed, start + i)), buffer[i]);
            }
        }
        // Both vector widths, whichever FillBf16 picked on this machine.
        var rule = SyntheticWeights.RuleFor(tensor);
        var widths = new List<Func<ushort[], int>>();
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            widths.Add(b => SyntheticWeights.FillNormalVector256(rule, seed, 77, b));
        }
        if (System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            widths.Add(b => SyntheticWeights.FillNormalVector512(rule, seed, 77, b));
        }
        foreach (var fill in widths)
        {
            var buffer = new ushort[1000];
            int filled = fill(buffer);
            Assert.InRange(filled, 968, 1000);
            for (int i = 0; i < filled; i++)
            {
                Assert.Equal(SyntheticWeights.ToBf16(SyntheticWeights.Value(tensor, config.Vision, seed, 77 + i)), buffer[i]);
            }
        }
    }

    [Fact]
    public void Shards_split_greedily_with_an_index_and_load()
    {
        using var temp = new TempDirectory("synth-shards");
        var config = MllamaPresets.Tiny();
        var result = SyntheticCheckpointWriter.Write(config, temp.Path, new SyntheticCheckpointOptions(MaxShardBytes: 6_000_000));
        var shards = result.Files.Where(f => f.Name.EndsWith(".safetensors", StringComparison.Ordinal)).ToList();
        // Vision + small tensors, embed_tokens (8.2 MB, alone), text layers + norm, lm_head (alone), projector.
        Assert.Equal(5, shards.Count);
        Assert.Equal("model-00001-of-00005.safetensors", shards[0].Name);
        Assert.False(File.Exists(temp.File("model.safetensors")));
        using var index = JsonDocument.Parse(File.ReadAllText(temp.File("model.safetensors.index.json")));
        Assert.Equal(result.TensorBytes, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
        using var checkpoint = MllamaCheckpoint.Open(temp.Path);
        Assert.Equal(5, checkpoint.Files.Count);
        // Every shard but the last is as full as greedy order allows: the next tensor would not have fit.
        var plan = SyntheticCheckpointWriter.PlanShards(MllamaTensorInventory.For(config), 6_000_000);
        for (int s = 0; s + 1 < plan.Count; s++)
        {
            long size = plan[s].Sum(t => t.ElementCount * 2);
            Assert.True(size <= 6_000_000 || plan[s].Count == 1);
            Assert.True(size + plan[s + 1][0].ElementCount * 2 > 6_000_000);
        }
    }

    [Fact]
    public void Real_preset_plans_five_shards_of_about_five_gigabytes()
    {
        var plan = SyntheticCheckpointWriter.PlanShards(MllamaTensorInventory.For(MllamaPresets.LlamaGuard3_11BVision()), 5_000_000_000);
        var sizes = plan.Select(s => s.Sum(t => t.ElementCount * 2)).ToArray();
        Assert.Equal(5, sizes.Length);
        Assert.All(sizes.Take(4), s => Assert.InRange(s, 4_500_000_000, 5_000_000_000));
        Assert.Equal(2 * 10_670_220_835L, sizes.Sum());
    }

    [Fact]
    public void Synth_command_writes_a_loadable_folder_with_tokenizer_files()
    {
        using var temp = new TempDirectory("synth-cli");
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.BuildRootCommand()
            .Parse(["synth", "--preset", "tiny", "--out", temp.Path, "--seed", "5", "--text-layers", "4", "--json"])
            .Invoke(new InvocationConfiguration { Output = output, Error = error });
        Assert.True(code == 0, error.ToString());
        using var summary = JsonDocument.Parse(output.ToString());
        var files = summary.RootElement.GetProperty("files").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("bytes").GetInt64());
        foreach (string name in new[] { "config.json", "generation_config.json", "preprocessor_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" })
        {
            Assert.Equal(new FileInfo(temp.File(name)).Length, files[name]);
        }
        Assert.Equal(File.ReadAllBytes(Infrastructure.TestData.Golden("tokenizer", "tokenizer.json")), File.ReadAllBytes(temp.File("tokenizer.json")));
        Assert.Equal(File.ReadAllBytes(Infrastructure.TestData.Golden("tokenizer", "tokenizer_config.json")), File.ReadAllBytes(temp.File("tokenizer_config.json")));
        using var checkpoint = MllamaCheckpoint.Open(temp.Path);
        Assert.Equal(4, checkpoint.Config.Text.NumHiddenLayers);
        Assert.Equal(new[] { 3 }, checkpoint.Config.Text.CrossAttentionLayers);
        Assert.Contains("MB/s", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Synth_command_rejects_bad_arguments()
    {
        using var temp = new TempDirectory("synth-bad");
        var error = new StringWriter();
        var config = new InvocationConfiguration { Output = new StringWriter(), Error = error };
        Assert.NotEqual(0, Program.BuildRootCommand().Parse(["synth", "--preset", "huge", "--out", temp.Path]).Invoke(config));
        Assert.NotEqual(0, Program.BuildRootCommand().Parse(["synth", "--preset", "tiny", "--out", temp.Path, "--vision-layers", "2"]).Invoke(config));
        Assert.NotEqual(0, Program.BuildRootCommand().Parse(["synth", "--preset", "tiny"]).Invoke(config));
        Assert.False(File.Exists(temp.File("model.safetensors")));
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
