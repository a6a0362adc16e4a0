using System.Text.Json;
using LlamaGuardSharp.Checkpoints;

namespace LlamaGuardSharp.Tests.Checkpoints;

public class MllamaTensorInventoryTests
{
    [Theory]
    [InlineData("mllama_tiny_56")]
    [InlineData("mllama_tiny_560")]
    public void Inventory_matches_golden_weight_names_exactly(string model)
    {
        var config = MllamaConfig.Load(Path.Combine(CheckpointFixtures.GoldenModel(model), "config.json"));
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(CheckpointFixtures.GoldenModel(model), "weight_names.json")));
        var golden = document.RootElement.GetProperty("tensors").EnumerateArray()
            .ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray());
        var modern = document.RootElement.GetProperty("tensors").EnumerateArray()
            .ToDictionary(t => t.GetProperty("name").GetString()!, t => t.GetProperty("name_transformers_ge_4_52").GetString()!);

        var inventory = MllamaTensorInventory.For(config);

        Assert.Equal(golden.Count, inventory.Count);
        Assert.Equal(golden.Keys.Order(StringComparer.Ordinal), inventory.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var t in inventory)
        {
            Assert.True(golden[t.Name].SequenceEqual(t.Shape), $"{t.Name}: inventory {t.ShapeText}, golden [{string.Join(", ", golden[t.Name])}]");
            Assert.Equal(modern[t.Name], TensorNameMapping.ToStored(t.Name, TensorNaming.Modern));
            Assert.Equal(t.Name, TensorNameMapping.ToCanonical(modern[t.Name]));
        }
    }

    [Fact]
    public void Real_config_has_the_spec_inventory_and_parameter_count()
    {
        var config = MllamaPresets.LlamaGuard3_11BVision();
        var inventory = MllamaTensorInventory.For(config);
        var byName = inventory.ToDictionary(t => t.Name);

        // The Hub checkpoint: 509 vision + 2 projector + 395 text = 906 tensors, 10,670,220,835 parameters.
        Assert.Equal(906, inventory.Count);
        Assert.Equal(509, inventory.Count(t => t.Name.StartsWith("vision_model.", StringComparison.Ordinal)));
        Assert.Equal(395, inventory.Count(t => t.Name.StartsWith("language_model.", StringComparison.Ordinal)));
        Assert.Equal(10_670_220_835L, MllamaTensorInventory.ParameterCount(config));
        Assert.Equal(863_567_379L, inventory.Where(t => t.Name.StartsWith("vision_model.", StringComparison.Ordinal)).Sum(t => t.ElementCount));
        Assert.Equal(31_461_376L, inventory.Where(t => t.Name.StartsWith("multi_modal_projector.", StringComparison.Ordinal)).Sum(t => t.ElementCount));
        Assert.Equal(9_775_192_080L, inventory.Where(t => t.Name.StartsWith("language_model.", StringComparison.Ordinal)).Sum(t => t.ElementCount));

        Assert.Equal(new long[] { 9, 8_197_120 }, byName["vision_model.gated_positional_embedding.tile_embedding.weight"].Shape);
        Assert.Equal(new long[] { 9, 5120 }, byName["vision_model.pre_tile_positional_embedding.embedding.weight"].Shape);
        Assert.Equal(new long[] { 1280, 3, 14, 14 }, byName["vision_model.patch_embedding.weight"].Shape);
        Assert.Equal(new long[] { 1601, 1280 }, byName["vision_model.gated_positional_embedding.embedding"].Shape);
        Assert.Equal(new long[] { 128264, 4096 }, byName["language_model.model.embed_tokens.weight"].Shape);
        Assert.Equal(new long[] { 128256, 4096 }, byName["language_model.lm_head.weight"].Shape);
        Assert.Equal(new long[] { 4096, 7680 }, byName["multi_modal_projector.weight"].Shape);
        Assert.Equal(new long[] { 1024, 4096 }, byName["language_model.model.layers.38.cross_attn.k_proj.weight"].Shape);
        Assert.Equal(new long[] { 128 }, byName["language_model.model.layers.3.cross_attn.q_norm.weight"].Shape);
        Assert.Equal(new long[] { 14336, 4096 }, byName["language_model.model.layers.39.mlp.gate_proj.weight"].Shape);
        Assert.Contains("vision_model.global_transformer.layers.7.gate_ffn", byName.Keys);
        Assert.DoesNotContain("vision_model.transformer.layers.0.gate_attn", byName.Keys);
        Assert.DoesNotContain("language_model.model.layers.3.self_attn.q_proj.weight", byName.Keys);
        Assert.Equal(8, inventory.Count(t => t.Name.EndsWith(".cross_attn_attn_gate", StringComparison.Ordinal)));
        Assert.Equal(2 * 10_670_220_835L, inventory.Sum(t => t.ElementCount * 2));
    }

    [Theory]
    [InlineData(40, new[] { 3, 8, 13, 18, 23, 28, 33, 38 })]
    [InlineData(10, new[] { 3, 8 })]
    [InlineData(9, new[] { 3, 8 })]
    [InlineData(8, new[] { 3 })]
    [InlineData(4, new[] { 3 })]
    [InlineData(3, new int[0])]
    public void Depth_reduction_keeps_the_cross_attention_pattern(int layers, int[] expected) =>
        Assert.Equal(expected, MllamaPresets.CrossLayersFor(layers));

    [Fact]
    public void Depth_reduced_real_config_keeps_widths_and_valid_taps()
    {
        var real = MllamaPresets.LlamaGuard3_11BVision();
        var reduced = MllamaPresets.WithDepth(real, visionLayers: 6, globalLayers: 1, textLayers: 5);
        Assert.Equal(real.Vision.HiddenSize, reduced.Vision.HiddenSize);
        Assert.Equal(real.Text.IntermediateSize, reduced.Text.IntermediateSize);
        Assert.Equal(7680, reduced.Vision.VisionOutputDim);
        Assert.Equal(5, reduced.Vision.IntermediateLayersIndices.Count);
        Assert.All(reduced.Vision.IntermediateLayersIndices, i => Assert.InRange(i, 0, 5));
        Assert.Equal(reduced.Vision.IntermediateLayersIndices.Order().Distinct(), reduced.Vision.IntermediateLayersIndices);
        Assert.Equal(new[] { 3 }, reduced.Text.CrossAttentionLayers);
        // Round trip through config.json keeps it loadable (the loader re-checks taps against the depth).
        var reparsed = MllamaConfig.Parse(MllamaConfigJson.Config(reduced));
        Assert.Equal(reduced.Vision.IntermediateLayersIndices, reparsed.Vision.IntermediateLayersIndices);
        Assert.Throws<ArgumentOutOfRangeException>(() => MllamaPresets.WithDepth(real, visionLayers: 4));
        // Keeping the real taps when they fit.
        Assert.Equal(new[] { 3, 7, 15, 23, 30 }, MllamaPresets.WithDepth(real, visionLayers: 31).Vision.IntermediateLayersIndices);
    }
}
