using System.Diagnostics;
using System.Numerics.Tensors;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Llama RMSNorm over the last dimension: y = weight ⊙ (x / sqrt(mean(x²) + eps)), float32. In place allowed.
/// </summary>
internal static class RmsNorm
{
    public static unsafe void Apply(ReadOnlySpan<float> x, int rows, int dim, ReadOnlySpan<float> weight, float eps, Span<float> y, ComputeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        RowKernels.CheckRows(x.Length, y.Length, rows, dim);
        RowKernels.CheckVector(weight.Length, dim, nameof(weight));
        long start = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
        fixed (float* px = x, pw = weight, py = y)
        {
            nint xp = (nint)px, wp = (nint)pw, yp = (nint)py;
            int per = RowKernels.RowsPerItem(dim);
            context.For((rows + per - 1) / per, item =>
            {
                var w = new ReadOnlySpan<float>((float*)wp, dim);
                for (int r = item * per, end = Math.Min(rows, r + per); r < end; r++)
                {
                    var xr = new ReadOnlySpan<float>((float*)xp + (long)r * dim, dim);
                    var yr = new Span<float>((float*)yp + (long)r * dim, dim);
                    float inv = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xr) / dim + eps);
                    TensorPrimitives.Multiply(xr, inv, yr);
                    TensorPrimitives.Multiply(yr, w, yr);
                }
            });
        }
        context.Profile?.Record("rmsnorm", $"{rows}×{dim}", 0, start);
    }
}
