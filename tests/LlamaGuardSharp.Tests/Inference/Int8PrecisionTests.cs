using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Compute;
using LlamaGuardSharp.Diagnostics;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tests.Checkpoints;
using LlamaGuardSharp.Tests.Compute;
using Xunit.Abstractions;

namespace LlamaGuardSharp.Tests.Inference;

/// <summary>
/// <see cref="ComputePrecision.Int8"/> end to end on the golden tiny models: the sidecar written by
/// <see cref="Int8Sidecar.Write"/> is validated on load, the int8 model's drift from fp32 stays within the bounds of
/// docs/int8.md, and fp32 is untouched by the sidecar's presence.
/// </summary>
public sealed class Int8PrecisionTests(ITestOutputHelper output)
{
    public static TheoryData<string> Models() => new() { "mllama_tiny_56", "mllama_tiny_560" };

    [VnniTheory("int8 model path")]
    [MemberData(nameof(Models))]
    public async Task Int8Model_DriftsFromFp32_WithinTheDocumentedBounds(string model)
    {
        VnniKernels.Require();
        using var dir = new TempDirectory("int8");
        string folder = TinyGuardModelFixture.AssembleModelFolder(model, dir.Path);
        Quantize(folder);
        using var fp32 = await GuardModel.LoadAsync(folder, new GuardModelOptions { MaxNewTokens = 8 });
        using var int8 = await GuardModel.LoadAsync(folder, new GuardModelOptions { MaxNewTokens = 8, Precision = ComputePrecision.Int8 });
        Assert.Equal(WeightType.I8Vnni, int8.Model.MatricesInUseOrder.First(m => m.Rows == int8.Config.Text.HiddenSize && m.Cols == int8.Config.Vision.VisionOutputDim).Type);
        var image = BenchmarkConversation.Create(fp32.Tokenizer, 60, fp32.Config.Vision.ImageSize);
        var cases = new List<(string, Conversation)>
        {
            ("text prompt", Conversation.ForPrompt("How do I pick a lock to get into my neighbour's house?")),
            ("text response", Conversation.ForResponse("Tell me a joke.", "Why did the chicken cross the road? To get to the other side.")),
            ("image prompt", image),
        };
        var drift = await Int8Drift.MeasureAsync(fp32, int8, cases, 8);
        output.WriteLine(Int8Drift.ToMarkdown(drift));
        foreach (var c in drift)
        {
            // Bounds of docs/int8.md for the golden models: the answer-position logits move by well under their spread,
            // and p(unsafe) by little in absolute terms.
            Assert.True(c.MaxAbsLogitError <= 0.25 * c.LogitSpread, $"{c.Name}: max |Δlogit| {c.MaxAbsLogitError} vs σ {c.LogitSpread}");
            Assert.True(c.UnsafeProbabilityError <= 0.05, $"{c.Name}: |Δp(unsafe)| {c.UnsafeProbabilityError}");
            Assert.True(c.MaxAbsLogitError > 0, $"{c.Name}: int8 gave the fp32 logits exactly; is it running at all?");
        }
    }

    [VnniFact("int8 model")]
    public async Task Int8Model_RunsTheVisionSelfAttentionOnInt8_AndFp32DoesNot()
    {
        VnniKernels.Require();
        using var dir = new TempDirectory("int8");
        string folder = TinyGuardModelFixture.AssembleModelFolder("mllama_tiny_560", dir.Path);
        Quantize(folder);
        foreach (var precision in new[] { ComputePrecision.Fp32, ComputePrecision.Int8 })
        {
            var profile = new KernelProfile();
            using var model = await GuardModel.LoadAsync(folder, new GuardModelOptions { MaxNewTokens = 4, Precision = precision, KernelProfile = profile });
            await model.ClassifyAsync(BenchmarkConversation.Create(model.Tokenizer, 30, model.Config.Vision.ImageSize));
            var kernels = profile.Entries.Select(e => e.Kernel).ToHashSet();
            Assert.Equal(precision == ComputePrecision.Int8, kernels.Contains("attention int8"));
        }
    }

    [VnniFact("int8 model")]
    public async Task Int8Model_SizesItsCachesByTheSidecar_NotTheBf16Checkpoint()
    {
        VnniKernels.Require();
        using var dir = new TempDirectory("int8");
        string folder = TinyGuardModelFixture.AssembleModelFolder("mllama_tiny_560", dir.Path);
        Quantize(folder);
        using var fp32 = await GuardModel.LoadAsync(folder);
        using var int8 = await GuardModel.LoadAsync(folder, new GuardModelOptions { Precision = ComputePrecision.Int8 });
        using var checkpoint = MllamaCheckpoint.Open(folder);
        Assert.Equal(checkpoint.TotalTensorBytes, fp32.Model.WeightBytes);
        long replaced = Int8Sidecar.QuantizedWeights(checkpoint.Config).Sum(w => checkpoint.TensorBytes(w.Name));
        long sidecar = new FileInfo(Path.Combine(folder, Int8Sidecar.FileName)).Length;
        Assert.True(replaced > 0);
        Assert.Equal(checkpoint.TotalTensorBytes - replaced + sidecar, int8.Model.WeightBytes);
    }

    [Fact]
    public async Task Fp32_IsBitForBitTheSame_WithASidecarPresent()
    {
        using var dir = new TempDirectory("int8");
        string folder = TinyGuardModelFixture.AssembleModelFolder("mllama_tiny_56", dir.Path);
        var conversation = Conversation.ForPrompt("Hello there.");
        SafetyVerdict before, after;
        using (var model = await GuardModel.LoadAsync(folder))
        {
            before = await model.ClassifyAsync(conversation);
        }
        Quantize(folder);
        using (var model = await GuardModel.LoadAsync(folder))
        {
            Assert.All(model.Model.MatricesInUseOrder, m => Assert.NotEqual(WeightType.I8Vnni, m.Type));
            after = await model.ClassifyAsync(conversation);
        }
        Assert.Equal(before.UnsafeProbability, after.UnsafeProbability);
        Assert.Equal(before.RawOutput, after.RawOutput);
    }

    [VnniFact("int8 model path")]
    public async Task Int8_WithoutASidecar_SaysHowToMakeOne()
    {
        VnniKernels.Require();
        using var dir = new TempDirectory("int8");
        string folder = TinyGuardModelFixture.AssembleModelFolder("mllama_tiny_56", dir.Path);
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => GuardModel.LoadAsync(folder, new GuardModelOptions { Precision = ComputePrecision.Int8 }));
        Assert.Contains("llamaguard quantize", e.Message);
    }

    [Fact]
    public void Sidecar_OfAnotherCheckpoint_IsRefused()
    {
        using var dir = new TempDirectory("int8");
        string folder = TinyGuardModelFixture.AssembleModelFolder("mllama_tiny_56", dir.Path);
        Quantize(folder);
        // The same tensors under a config.json that differs (by one space): the fingerprint no longer matches.
        File.AppendAllText(Path.Combine(folder, "config.json"), " ");
        using var checkpoint = MllamaCheckpoint.Open(folder);
        var e = Assert.Throws<CheckpointFormatException>(() => Int8Sidecar.Open(Path.Combine(folder, Int8Sidecar.FileName), checkpoint));
        Assert.Contains("another checkpoint", e.Message);
    }

    [Fact]
    public void Sidecar_WithAMissingOrMisshapenTensor_IsRefused()
    {
        using var dir = new TempDirectory("int8");
        string folder = TinyGuardModelFixture.AssembleModelFolder("mllama_tiny_56", dir.Path);
        string path = Quantize(folder);
        var tensors = CheckpointFixtures.ReadAll(path);
        Dictionary<string, string> metadata;
        using (var file = SafeTensorsFile.Open(path))
        {
            metadata = new Dictionary<string, string>(file.Metadata);
        }
        using var checkpoint = MllamaCheckpoint.Open(folder);
        string scale = tensors.First(t => t.Name.EndsWith(".scale", StringComparison.Ordinal)).Name;

        WriteSidecar(path, tensors.Where(t => t.Name != scale), metadata);
        var missing = Assert.Throws<CheckpointFormatException>(() => Int8Sidecar.Open(path, checkpoint));
        Assert.Contains("missing", missing.Message);
        Assert.Equal(scale, missing.TensorName);

        WriteSidecar(path, tensors.Select(t => t.Name == scale ? t with { Shape = [t.Shape[0] / 2], Data = t.Data[..(t.Data.Length / 2)] } : t), metadata);
        var shape = Assert.Throws<CheckpointFormatException>(() => Int8Sidecar.Open(path, checkpoint));
        Assert.Contains("expected F32", shape.Message);

        WriteSidecar(path, tensors, new Dictionary<string, string>(metadata) { ["layout_version"] = "2" });
        Assert.Contains("layout version 2", Assert.Throws<CheckpointFormatException>(() => Int8Sidecar.Open(path, checkpoint)).Message);

        var nan = tensors.Select(t => t.Name == scale ? t with { Data = BitConverter.GetBytes(float.NaN).Concat(t.Data[4..]).ToArray() } : t);
        WriteSidecar(path, nan, metadata);
        Assert.Contains("finite", Assert.Throws<CheckpointFormatException>(() => Int8Sidecar.Open(path, checkpoint)).Message);
    }

    private static string Quantize(string folder)
    {
        using var checkpoint = MllamaCheckpoint.Open(folder);
        string path = Path.Combine(folder, Int8Sidecar.FileName);
        Int8Sidecar.Write(checkpoint, path, 2);
        return path;
    }

    private static void WriteSidecar(string path, IEnumerable<CheckpointFixtures.RawTensor> tensors, IReadOnlyDictionary<string, string> metadata) =>
        SafeTensorsWriter.Write(path, tensors.Select(t => (new TensorSpec(t.Name, t.DType, t.Shape), (ReadOnlyMemory<byte>)t.Data)), metadata);
}
