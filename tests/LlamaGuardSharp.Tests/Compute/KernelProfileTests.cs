using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Compute;

public class KernelProfileTests
{
    [Fact]
    public void Records_each_kernel_call_under_its_kernel_and_shape()
    {
        var profile = new KernelProfile();
        var context = new ComputeContext(2, profile);
        var rng = new Random(2);
        using var weights = TestWeights.Create(rng, 40, 30, WeightType.BF16);
        float[] a = GemmTests.RandomValues(rng, 20 * 30), c = new float[20 * 40];
        Gemm.MatMulTransposed(a, 20, weights.Matrix, [], c, context);
        Gemm.MatMulTransposed(a, 20, weights.Matrix, [], c, context);
        Gelu.Apply(c, c, context);

        var entries = profile.Entries;
        var gemm = Assert.Single(entries, e => e.Kernel == "gemm");
        Assert.Equal("M=20 N=40 K=30", gemm.Shape);
        Assert.Equal(2, gemm.Calls);
        Assert.Equal(2 * 2.0 * 20 * 40 * 30, gemm.Flops);
        Assert.True(gemm.Seconds > 0 && gemm.Gflops > 0);
        var gelu = Assert.Single(entries, e => e.Kernel == "gelu");
        Assert.Equal(0, gelu.Flops);
        Assert.Equal(0, gelu.Gflops);

        profile.Clear();
        Assert.Empty(profile.Entries);
    }

    [Fact]
    public void A_context_without_a_profile_records_nothing_and_gives_the_same_result()
    {
        var rng = new Random(3);
        using var weights = TestWeights.Create(rng, 33, 50, WeightType.BF16);
        float[] a = GemmTests.RandomValues(rng, 15 * 50), plain = new float[15 * 33], profiled = new float[15 * 33];
        var profile = new KernelProfile();
        Gemm.MatMulTransposed(a, 15, weights.Matrix, [], plain, new ComputeContext(2));
        Gemm.MatMulTransposed(a, 15, weights.Matrix, [], profiled, new ComputeContext(2, profile));
        Assert.Equal(plain, profiled);
        Assert.Null(new ComputeContext(1).Profile);
        Assert.Same(profile, new ComputeContext(1, profile).Profile);
    }
}
