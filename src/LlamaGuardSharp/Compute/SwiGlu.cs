using System.Diagnostics;
using System.Runtime.Intrinsics;

namespace LlamaGuardSharp.Compute;

/// <summary>The Llama MLP gate: y = silu(gate) ⊙ up with silu(g) = g / (1 + e^(−g)), float32. y may alias gate or up.</summary>
internal static class SwiGlu
{
    public static unsafe void Apply(ReadOnlySpan<float> gate, ReadOnlySpan<float> up, Span<float> y, ComputeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        RowKernels.CheckSameLength(gate.Length, up.Length, y.Length);
        long startTime = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
        fixed (float* pg = gate, pu = up, py = y)
        {
            nint gp = (nint)pg, up2 = (nint)pu, yp = (nint)py;
            int n = gate.Length;
            const int Chunk = 1 << 15;
            context.For((n + Chunk - 1) / Chunk, item =>
            {
                int start = item * Chunk;
                Run((float*)gp + start, (float*)up2 + start, (float*)yp + start, Math.Min(Chunk, n - start));
            });
        }
        context.Profile?.Record("swiglu", $"{gate.Length}", 0, startTime);
    }

    private static unsafe void Run(float* g, float* u, float* y, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                Vector512<float> gv = Vector512.Load(g + i);
                // e^(−g) overflows to +inf for g < −88: g·u / inf = ∓0, the correct limit.
                (gv * Vector512.Load(u + i) / (Vector512<float>.One + Vector512.Exp(-gv))).Store(y + i);
            }
        }
        for (; i < n; i++)
        {
            y[i] = g[i] * u[i] / (1f + MathF.Exp(-g[i]));
        }
    }
}
