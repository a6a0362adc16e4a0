using LlamaGuardSharp.Checkpoints;

namespace LlamaGuardSharp.Tests.Checkpoints;

/// <summary>The same golden weights in every supported layout load identically.</summary>
public class CheckpointLayoutTests
{
    public static TheoryData<string> Models => new(CheckpointFixtures.GoldenModels);

    [Theory]
    [MemberData(nameof(Models))]
    public void Golden_checkpoint_opens_and_validates(string model)
    {
        using var checkpoint = MllamaCheckpoint.Open(CheckpointFixtures.GoldenModel(model));
        checkpoint.Validate();
        var inventory = MllamaTensorInventory.For(checkpoint.Config);
        Assert.Equal(inventory.Select(t => t.Name).Order(StringComparer.Ordinal), checkpoint.TensorNames.Order(StringComparer.Ordinal));
        Assert.Equal(inventory.Sum(t => t.ElementCount) * 2, checkpoint.TotalTensorBytes);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Modern_names_load_as_the_same_tensors(string model)
    {
        using var temp = new TempDirectory("modern");
        CheckpointFixtures.CopyJsonFiles(model, temp.Path);
        var raw = CheckpointFixtures.ReadAll(Path.Combine(CheckpointFixtures.GoldenModel(model), "model.safetensors"));
        CheckpointFixtures.Write(temp.File("model.safetensors"),
            raw.Select(t => t with { Name = TensorNameMapping.ToStored(t.Name, TensorNaming.Modern) }));
        using (var stored = SafeTensorsFile.Open(temp.File("model.safetensors")))
        {
            Assert.Contains("lm_head.weight", stored.TensorNames);
            Assert.Contains("model.language_model.embed_tokens.weight", stored.TensorNames);
            Assert.DoesNotContain(stored.TensorNames, n => n.StartsWith("language_model.", StringComparison.Ordinal) || n.StartsWith("vision_model.", StringComparison.Ordinal));
        }

        using var golden = MllamaCheckpoint.Open(CheckpointFixtures.GoldenModel(model));
        using var modern = MllamaCheckpoint.Open(temp.Path);
        Assert.Equal(TensorNaming.Modern, modern.Naming);
        AssertSameTensors(golden, modern, (expected, _) => expected);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Three_shards_with_index_load_as_the_same_tensors(string model)
    {
        using var temp = new TempDirectory("sharded");
        CheckpointFixtures.CopyJsonFiles(model, temp.Path);
        var raw = CheckpointFixtures.ReadAll(Path.Combine(CheckpointFixtures.GoldenModel(model), "model.safetensors"));
        CheckpointFixtures.WriteSharded(temp.Path, raw, 3);

        using var golden = MllamaCheckpoint.Open(CheckpointFixtures.GoldenModel(model));
        using var sharded = MllamaCheckpoint.Open(temp.Path);
        Assert.Equal(3, sharded.Files.Count);
        AssertSameTensors(golden, sharded, (expected, _) => expected);
    }

    [Fact]
    public void Hub_cache_layout_with_symlinks_resolves_through_refs_main()
    {
        const string model = "mllama_tiny_56";
        using var temp = new TempDirectory("hub");
        string repo = Path.Combine(temp.Path, "models--meta-llama--Llama-Guard-3-11B-Vision");
        string blobs = Path.Combine(repo, "blobs");
        string revision = "0123456789abcdef0123456789abcdef01234567";
        string snapshot = Path.Combine(repo, "snapshots", revision);
        Directory.CreateDirectory(blobs);
        Directory.CreateDirectory(snapshot);
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", "main"), revision);
        // An older snapshot without refs pointing at it must not be picked.
        Directory.CreateDirectory(Path.Combine(repo, "snapshots", "fedcba9876543210fedcba9876543210fedcba98"));
        File.WriteAllText(Path.Combine(repo, "snapshots", "fedcba9876543210fedcba9876543210fedcba98", "config.json"), "{}");

        var raw = CheckpointFixtures.ReadAll(Path.Combine(CheckpointFixtures.GoldenModel(model), "model.safetensors"));
        using (var staging = new TempDirectory("hub-staging"))
        {
            CheckpointFixtures.CopyJsonFiles(model, staging.Path);
            CheckpointFixtures.WriteSharded(staging.Path, raw, 2);
            int blob = 0;
            foreach (string file in Directory.GetFiles(staging.Path))
            {
                // Blobs are named by content hash in a real cache; any distinct name does here.
                string blobName = $"{blob++:x40}";
                File.Move(file, Path.Combine(blobs, blobName));
                File.CreateSymbolicLink(Path.Combine(snapshot, Path.GetFileName(file)), Path.Combine("..", "..", "blobs", blobName));
            }
        }

        Assert.Equal(snapshot, MllamaCheckpoint.ResolveModelDirectory(repo));
        using var golden = MllamaCheckpoint.Open(CheckpointFixtures.GoldenModel(model));
        using var hub = MllamaCheckpoint.Open(repo);
        Assert.Equal(2, hub.Files.Count);
        AssertSameTensors(golden, hub, (expected, _) => expected);
        using var direct = MllamaCheckpoint.Open(snapshot);
        Assert.Equal(golden.TotalTensorBytes, direct.TotalTensorBytes);
    }

    [Theory]
    [InlineData("mllama_tiny_56", nameof(SafeTensorDType.F32))]
    [InlineData("mllama_tiny_56", nameof(SafeTensorDType.F16))]
    [InlineData("mllama_tiny_560", nameof(SafeTensorDType.F32))]
    public void Float32_and_float16_conversions_load_with_the_same_values(string model, string dtypeName)
    {
        var dtype = Enum.Parse<SafeTensorDType>(dtypeName);
        using var temp = new TempDirectory("dtype");
        CheckpointFixtures.CopyJsonFiles(model, temp.Path);
        var raw = CheckpointFixtures.ReadAll(Path.Combine(CheckpointFixtures.GoldenModel(model), "model.safetensors"));
        CheckpointFixtures.Write(temp.File("model.safetensors"), raw.Select(t => CheckpointFixtures.Convert(t, dtype)));

        using var golden = MllamaCheckpoint.Open(CheckpointFixtures.GoldenModel(model));
        using var converted = MllamaCheckpoint.Open(temp.Path);
        Assert.All(converted.TensorNames, n => Assert.Equal(dtype, converted.GetInfo(n).DType));
        // bf16 → f32 is exact; bf16 → f16 rounds to f16 (the loader must return exactly that rounding).
        AssertSameTensors(golden, converted, (expected, _) => dtype == SafeTensorDType.F16 ? (float)(Half)expected : expected);
        var matrix = converted.GetMatrix("language_model.lm_head.weight");
        Assert.Equal(128256, matrix.Rows);
    }

    [Fact]
    public void Config_accepts_num_attention_heads_for_the_vision_heads()
    {
        const string model = "mllama_tiny_56";
        using var temp = new TempDirectory("heads");
        CheckpointFixtures.CopyJsonFiles(model, temp.Path);
        string config = File.ReadAllText(temp.File("config.json"));
        Assert.Contains("\"attention_heads\": 3", config, StringComparison.Ordinal);
        File.WriteAllText(temp.File("config.json"), config.Replace("\"attention_heads\": 3", "\"num_attention_heads\": 3", StringComparison.Ordinal));
        File.CreateSymbolicLink(temp.File("model.safetensors"), Path.Combine(CheckpointFixtures.GoldenModel(model), "model.safetensors"));

        using var checkpoint = MllamaCheckpoint.Open(temp.Path);
        Assert.Equal(3, checkpoint.Config.Vision.AttentionHeads);
        Assert.Equal(16, checkpoint.Config.Vision.HeadDim);
    }

    private static void AssertSameTensors(MllamaCheckpoint expected, MllamaCheckpoint actual, Func<float, string, float> transform)
    {
        Assert.Equal(expected.TensorNames.Order(StringComparer.Ordinal), actual.TensorNames.Order(StringComparer.Ordinal));
        foreach (string name in expected.TensorNames)
        {
            Assert.Equal(expected.GetInfo(name).Shape, actual.GetInfo(name).Shape);
            float[] a = expected.ReadSingles(name);
            float[] b = actual.ReadSingles(name);
            Assert.Equal(a.Length, b.Length);
            for (int i = 0; i < a.Length; i++)
            {
                float want = transform(a[i], name);
                if (BitConverter.SingleToInt32Bits(want) != BitConverter.SingleToInt32Bits(b[i]))
                {
                    Assert.Fail($"{name}[{i}]: expected {want}, loaded {b[i]}");
                }
            }
        }
    }
}
