using LlamaGuardSharp.Tests.Infrastructure;
using LlamaGuardSharp.Tools;

namespace LlamaGuardSharp.Tests.Compute;

/// <summary>The micro-kernels are generated: the committed file must be exactly what the generator writes.</summary>
public sealed class GemmMicroKernelSourceTests
{
    [Fact]
    public void The_committed_micro_kernels_are_what_the_generator_writes()
    {
        string path = Path.Combine(TestData.DataDir, "..", "..", "src", "LlamaGuardSharp", "Compute", "GemmMicroKernel.cs");
        string committed = File.ReadAllText(path).ReplaceLineEndings("\n");

        string generated = GemmMicroKernelSource.Generate();

        Assert.True(committed == generated,
            "src/LlamaGuardSharp/Compute/GemmMicroKernel.cs differs from tools/GemmKernelGen's output: edit the generator and run "
            + "`dotnet run --project tools/GemmKernelGen`, not the file.");
    }

    [Fact]
    public void The_generated_kernels_have_one_named_accumulator_pair_per_row()
    {
        string generated = GemmMicroKernelSource.Generate();

        Assert.Contains("c13_0 = Vector512.FusedMultiplyAdd(ar, b0, c13_0)", generated);
        Assert.Contains("if (rows > 11) { c11_0.Store(c + 11 * ldc);", generated);
        Assert.DoesNotContain("c14_0", generated);
    }
}
