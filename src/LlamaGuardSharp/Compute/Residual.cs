using System.Diagnostics;
using System.Numerics.Tensors;

namespace LlamaGuardSharp.Compute;

/// <summary>Residual updates: x += s·y (s = 1 for plain residuals; tanh(gate) for Mllama's gated layers).</summary>
internal static class Residual
{
    public static unsafe void AddScaled(Span<float> x, ReadOnlySpan<float> y, float scale, ComputeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (x.Length != y.Length)
        {
            throw new ArgumentException($"Residual lengths differ ({x.Length} vs {y.Length}).");
        }
        long startTime = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
        fixed (float* px = x, py = y)
        {
            nint xp = (nint)px, yp = (nint)py;
            int n = x.Length;
            const int Chunk = 1 << 16;
            context.For((n + Chunk - 1) / Chunk, item =>
            {
                int start = item * Chunk, count = Math.Min(Chunk, n - start);
                var xs = new Span<float>((float*)xp + start, count);
                if (scale == 1f)
                {
                    TensorPrimitives.Add(xs, new ReadOnlySpan<float>((float*)yp + start, count), xs);
                }
                else
                {
                    // Unfused (s·y rounded, then added) like torch's x + s * y.
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>((float*)yp + start, count), scale, xs, xs);
                }
            });
        }
        context.Profile?.Record("residual", $"{x.Length}", 0, startTime);
    }
}
