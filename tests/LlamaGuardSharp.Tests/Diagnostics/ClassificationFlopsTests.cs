using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Diagnostics;

namespace LlamaGuardSharp.Tests.Diagnostics;

public class ClassificationFlopsTests
{
    [Fact]
    public void Real_model_matches_the_spec_budget()
    {
        // Hand-counted (docs/performance.md): vision 18.60 TFLOP; projector 0.40 + cross K/V 0.86; prefill (L = 400) 5.58 + 0.08 + 1.34 + 0.34;
        // ≈ 19.4 GFLOP per decode token; ≈ 27.3 TFLOP in all with about four decode tokens.
        var flops = ClassificationFlops.Estimate(MllamaPresets.LlamaGuard3_11BVision(), promptTokens: 400, decodeSteps: 4, images: 1);
        Assert.InRange(flops.Vision / 1e12, 18.55, 18.65);
        Assert.InRange(flops.CrossAttentionStates / 1e12, 1.24, 1.28);
        Assert.InRange(flops.Prefill / 1e12, 7.30, 7.40);
        Assert.InRange(flops.Decode / 1e12, 4 * 0.0188, 5 * 0.0200);
        Assert.InRange(flops.Total / 1e12, 27.1, 27.4);
    }

    [Fact]
    public void Text_only_skips_vision_and_cross_attention()
    {
        var config = MllamaPresets.LlamaGuard3_11BVision();
        var flops = ClassificationFlops.Estimate(config, promptTokens: 400, decodeSteps: 0, images: 0);
        Assert.Equal(0, flops.Vision);
        Assert.Equal(0, flops.CrossAttentionStates);
        // Hand-counted: ≈ 5.7 TFLOP for the text-only request with L = 400.
        Assert.InRange(flops.Total / 1e12, 5.6, 5.75);
    }
}
