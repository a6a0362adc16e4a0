using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Checkpoints;

public class MllamaCheckpointTests
{
    [Theory]
    [InlineData("mllama_tiny_56", 10, 48, 3)]
    [InlineData("mllama_tiny_560", 6, 32, 2)]
    public void Opens_golden_checkpoint_and_reads_config(string model, int textLayers, int visionHidden, int visionHeads)
    {
        using var checkpoint = MllamaCheckpoint.Open(TestData.Golden("models", model));
        Assert.Equal(TensorNaming.Legacy, checkpoint.Naming);
        Assert.Equal(textLayers, checkpoint.Config.Text.NumHiddenLayers);
        Assert.Equal(visionHidden, checkpoint.Config.Vision.HiddenSize);
        Assert.Equal(visionHeads, checkpoint.Config.Vision.AttentionHeads);
        var embed = checkpoint.GetInfo("language_model.model.embed_tokens.weight");
        Assert.Equal(SafeTensorDType.BF16, embed.DType);
        Assert.Equal(new long[] { 128264, checkpoint.Config.Text.HiddenSize }, embed.Shape);
        var matrix = checkpoint.GetMatrix("language_model.lm_head.weight");
        Assert.Equal(128256, matrix.Rows);
        Assert.Equal(checkpoint.Config.Text.HiddenSize, matrix.Cols);
        // A gate is a one-element tensor whose value the goldens' init draws from ±U(0.4, 1.2).
        float gate = checkpoint.ReadScalar("vision_model.gated_positional_embedding.gate");
        Assert.InRange(Math.Abs(gate), 0.39f, 1.21f);
    }

    [Fact]
    public void Writer_output_reads_back_identically()
    {
        string path = Path.Combine(Path.GetTempPath(), $"lgs-writer-{Guid.NewGuid():N}.safetensors");
        try
        {
            float[] values = [1.5f, -2f, 3.25f, 0f, 7f, 8f];
            long[] ints = [3, -4];
            SafeTensorsWriter.Write(path,
            [
                (new TensorSpec("a", SafeTensorDType.F32, [2, 3]), System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray()),
                (new TensorSpec("b", SafeTensorDType.I64, [2]), System.Runtime.InteropServices.MemoryMarshal.AsBytes(ints.AsSpan()).ToArray()),
            ], new Dictionary<string, string> { ["format"] = "pt" });
            using var file = SafeTensorsFile.Open(path);
            Assert.Equal(values, file.ReadSingles("a"));
            Assert.Equal(ints, file.ReadInt64("b"));
            Assert.Equal("pt", file.Metadata["format"]);
            Assert.Equal(0, (file.GetInfo("a").DataOffset) % 8);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
