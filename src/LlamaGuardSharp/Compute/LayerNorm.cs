using System.Diagnostics;
using System.Numerics.Tensors;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// LayerNorm over the last dimension (vision encoder): y = (x − mean) / sqrt(var + eps) · weight + bias with the biased
/// variance, all in float32. Two passes per row (mean, then centred sum of squares) for accuracy; in place allowed
/// (<c>y</c> may be the same memory as <c>x</c>).
/// </summary>
internal static class LayerNorm
{
    public static unsafe void Apply(ReadOnlySpan<float> x, int rows, int dim, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        float eps, Span<float> y, ComputeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        RowKernels.CheckRows(x.Length, y.Length, rows, dim);
        RowKernels.CheckVector(weight.Length, dim, nameof(weight));
        RowKernels.CheckVector(bias.Length, dim, nameof(bias));
        long start = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
        fixed (float* px = x, pw = weight, pb = bias, py = y)
        {
            nint xp = (nint)px, wp = (nint)pw, bp = (nint)pb, yp = (nint)py;
            int per = RowKernels.RowsPerItem(dim);
            context.For((rows + per - 1) / per, item =>
            {
                var w = new ReadOnlySpan<float>((float*)wp, dim);
                var b = new ReadOnlySpan<float>((float*)bp, dim);
                for (int r = item * per, end = Math.Min(rows, r + per); r < end; r++)
                {
                    Row(new ReadOnlySpan<float>((float*)xp + (long)r * dim, dim), w, b, eps, new Span<float>((float*)yp + (long)r * dim, dim));
                }
            });
        }
        context.Profile?.Record("layernorm", $"{rows}×{dim}", 0, start);
    }

    private static void Row(ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, float eps, Span<float> y)
    {
        int dim = x.Length;
        float mean = TensorPrimitives.Sum(x) / dim;
        float sumSq = 0f;
        // Centred sum of squares without a temporary: Σ(x − mean)² = Σx² − 2·mean·Σx + n·mean² loses digits, so do it directly.
        int i = 0;
        var acc = System.Runtime.Intrinsics.Vector512<float>.Zero;
        var meanV = System.Runtime.Intrinsics.Vector512.Create(mean);
        for (; i + 16 <= dim; i += 16)
        {
            var d = System.Runtime.Intrinsics.Vector512.Create(x.Slice(i, 16)) - meanV;
            acc = System.Runtime.Intrinsics.Vector512.FusedMultiplyAdd(d, d, acc);
        }
        sumSq = System.Runtime.Intrinsics.Vector512.Sum(acc);
        for (; i < dim; i++)
        {
            float d = x[i] - mean;
            sumSq += d * d;
        }
        float rstd = 1f / MathF.Sqrt(sumSq / dim + eps);
        // y = (x − mean)·rstd·w + b, vectorised; x is read before y is written element by element, so in place is fine.
        TensorPrimitives.Subtract(x, mean, y);
        TensorPrimitives.Multiply(y, rstd, y);
        TensorPrimitives.FusedMultiplyAdd(y, w, b, y);
    }
}
