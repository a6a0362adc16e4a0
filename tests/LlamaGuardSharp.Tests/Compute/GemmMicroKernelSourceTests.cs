using System.Text.RegularExpressions;
using LlamaGuardSharp.Tests.Infrastructure;
using LlamaGuardSharp.Tools;

namespace LlamaGuardSharp.Tests.Compute;

/// <summary>
/// The float32 and int8 micro-kernels are generated (tools/GemmKernelGen): the committed files must be exactly what the
/// generator writes, and the generated code has the structure the kernels rely on.
/// </summary>
public sealed class GemmMicroKernelSourceTests
{
    [Theory]
    [InlineData("GemmMicroKernel.cs")]
    [InlineData("GemmInt8MicroKernel.cs")]
    public void The_committed_micro_kernels_are_what_the_generator_writes(string file)
    {
        string path = Path.Combine(TestData.DataDir, "..", "..", "src", "LlamaGuardSharp", "Compute", file);
        string committed = File.ReadAllText(path).ReplaceLineEndings("\n");

        string generated = file == "GemmMicroKernel.cs" ? GemmMicroKernelSource.Generate() : GemmInt8MicroKernelSource.Generate();

        Assert.True(committed == generated,
            $"src/LlamaGuardSharp/Compute/{file} differs from tools/GemmKernelGen's output: edit the generator and run "
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

    [Fact]
    public void The_generated_int8_kernels_have_one_kernel_per_shape_and_one_named_accumulator_per_row_and_panel()
    {
        string generated = GemmInt8MicroKernelSource.Generate();

        // 12 kernels, each compiled optimized at once and reached from the dispatch.
        Assert.Equal(12, Regex.Count(generated, @"\[MethodImpl\(MethodImplOptions\.AggressiveOptimization \| MethodImplOptions\.NoInlining\)\]"));
        for (int rows = 1; rows <= 4; rows++)
        {
            for (int panels = 1; panels <= 3; panels++)
            {
                Assert.Contains($"private static void Kernel{rows}x{panels}<E>(", generated);
                Assert.Contains($"case ({rows}, {panels}): Kernel{rows}x{panels}(", generated);
            }
        }
        // The 4×3 kernel: the last row's last panel accumulates with the third weight vector and is finished at its channels.
        Assert.Contains("c32 = AvxVnni.MultiplyWideningAndAdd(c32, x, w2);", generated);
        Assert.Contains("Finish(ref epilogue, i0 + 3, j0 + 16, n, rowSums, c32);", generated);
        // 16 ymm registers bound the shapes: no fifth row, no fourth panel.
        Assert.DoesNotContain("c40", generated);
        Assert.DoesNotContain("c03", generated);
        Assert.DoesNotContain("w3", generated);
        // The 1×1 kernel has exactly one accumulator update, weight load and finish.
        string kernel1x1 = generated[generated.IndexOf("void Kernel1x1<E>(", StringComparison.Ordinal)..];
        kernel1x1 = kernel1x1[..kernel1x1.IndexOf("\n    }\n", StringComparison.Ordinal)];
        Assert.Equal(1, Regex.Count(kernel1x1, "AvxVnni.MultiplyWideningAndAdd"));
        Assert.Equal(1, Regex.Count(kernel1x1, "Vector256.Load"));
        Assert.Equal(1, Regex.Count(kernel1x1, @"Finish\("));
    }
}
