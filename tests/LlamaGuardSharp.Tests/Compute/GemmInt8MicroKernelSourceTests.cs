using System.Text.RegularExpressions;
using LlamaGuardSharp.Tests.Infrastructure;
using LlamaGuardSharp.Tools;

namespace LlamaGuardSharp.Tests.Compute;

/// <summary>The int8 micro-kernels are generated: the committed file must be exactly what the generator writes.</summary>
public sealed class GemmInt8MicroKernelSourceTests
{
    [Fact]
    public void The_committed_int8_micro_kernels_are_what_the_generator_writes()
    {
        string path = Path.Combine(TestData.DataDir, "..", "..", "src", "LlamaGuardSharp", "Compute", "GemmInt8MicroKernel.cs");
        string committed = File.ReadAllText(path).ReplaceLineEndings("\n");

        string generated = GemmInt8MicroKernelSource.Generate();

        Assert.True(committed == generated,
            "src/LlamaGuardSharp/Compute/GemmInt8MicroKernel.cs differs from tools/GemmKernelGen's output: edit the generator and run "
            + "`dotnet run --project tools/GemmKernelGen`, not the file.");
    }

    [Fact]
    public void Every_rows_by_panels_shape_has_its_own_kernel_with_one_named_accumulator_per_row_and_panel()
    {
        string generated = GemmInt8MicroKernelSource.Generate();

        // 12 kernels, each optimized at once and reached from the dispatch.
        Assert.Equal(12, Regex.Count(generated, @"\[MethodImpl\(MethodImplOptions\.AggressiveOptimization\)\]"));
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
        // The 1×1 kernel has exactly one accumulator, loaded weight vector and finish.
        string kernel1x1 = generated[generated.IndexOf("void Kernel1x1<E>(", StringComparison.Ordinal)..];
        kernel1x1 = kernel1x1[..kernel1x1.IndexOf("\n    }\n", StringComparison.Ordinal)];
        Assert.Equal(1, Regex.Count(kernel1x1, "AvxVnni.MultiplyWideningAndAdd"));
        Assert.Equal(1, Regex.Count(kernel1x1, "Vector256.Load"));
        Assert.Equal(1, Regex.Count(kernel1x1, @"Finish\("));
    }
}
