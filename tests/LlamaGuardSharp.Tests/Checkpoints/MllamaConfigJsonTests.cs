using LlamaGuardSharp.Checkpoints;

namespace LlamaGuardSharp.Tests.Checkpoints;

public class MllamaConfigJsonTests
{
    [Theory]
    [InlineData("mllama_tiny_56")]
    [InlineData("mllama_tiny_560")]
    public void Reproduces_golden_json_files_byte_for_byte(string model)
    {
        string dir = CheckpointFixtures.GoldenModel(model);
        var config = MllamaConfig.Load(Path.Combine(dir, "config.json"));
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "config.json")), MllamaConfigJson.Config(config, "4.45.2"));
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "preprocessor_config.json")), MllamaConfigJson.PreprocessorConfig(config.Vision));
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "generation_config.json")), MllamaConfigJson.GenerationConfig(config.Text, instructStyle: false, "4.45.2"));
    }

    [Fact]
    public void Real_json_files_have_the_hub_sizes()
    {
        var config = MllamaPresets.LlamaGuard3_11BVision();
        // The Hub checkpoint's files: 437 and 215 bytes.
        Assert.Equal(437, MllamaConfigJson.PreprocessorConfig(config.Vision).Length);
        Assert.Equal(215, MllamaConfigJson.GenerationConfig(config.Text, instructStyle: true).Length);
        var reparsed = MllamaConfig.Parse(MllamaConfigJson.Config(config));
        Assert.Equal(config.Vision with { IntermediateLayersIndices = reparsed.Vision.IntermediateLayersIndices, SupportedAspectRatios = reparsed.Vision.SupportedAspectRatios }, reparsed.Vision);
        Assert.Equal(config.Vision.SupportedAspectRatios, reparsed.Vision.SupportedAspectRatios);
        Assert.Equal(config.Text.CrossAttentionLayers, reparsed.Text.CrossAttentionLayers);
        Assert.Equal(config.Text.RopeScaling, reparsed.Text.RopeScaling);
        Assert.Equal(config.Text.EosTokenIds, reparsed.Text.EosTokenIds);
    }

    [Theory]
    [InlineData(8.0, "8.0")]
    [InlineData(1e-05, "1e-05")]
    [InlineData(500000.0, "500000.0")]
    [InlineData(0.00392156862745098, "0.00392156862745098")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1234567890123456.0, "1234567890123456.0")]
    [InlineData(-2.5e-7, "-2.5e-07")]
    [InlineData(0.48145466, "0.48145466")]
    [InlineData(0.0, "0.0")]
    public void Floats_print_as_python_repr(double value, string expected) =>
        Assert.Equal(expected, PythonStyleJson.FloatRepr(value));
}
