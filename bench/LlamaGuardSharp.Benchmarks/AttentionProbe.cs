using System.Diagnostics;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// <c>attention-probe queries keys [none|pad]</c>: one vision-sized head (d = 80) on one thread, repeated, in GFLOP/s —
/// the per-core efficiency of the attention kernel without the second core competing for L3 and memory (at
/// 6432 × 6432 with the pad mask it measured 131 GFLOP/s = 79 % of a 167 GFLOP/s core on 2026-11-28).
/// </summary>
public static unsafe class AttentionProbe
{
    public static void Run(int queries, int keys, string maskKind)
    {
        var context = new ComputeContext(1);
        var rng = new Random(1);
        const int d = 80;
        float[] q = new float[queries * d], k = new float[keys * d], v = new float[k.Length], o = new float[q.Length];
        foreach (float[] x in new[] { q, k, v })
        {
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = (float)(rng.NextDouble() * 2 - 1);
            }
        }
        AttentionMask mask = maskKind == "pad"
            ? AttentionMask.PadPairs(Enumerable.Range(0, keys).Select(j => j % 1608 >= 1601).ToArray())
            : AttentionMask.None;
        double flops = 4.0 * queries * keys * d;
        int calls = Math.Max(1, (int)(2e10 / flops));
        for (int rep = 0; rep < 5; rep++)
        {
            var sw = Stopwatch.StartNew();
            fixed (float* pq = q, pk = k, pv = v, po = o)
            {
                for (int c = 0; c < calls; c++)
                {
                    AttentionTiled.Run(pq, queries, 1, pk, pv, keys, 1, d, 1f / MathF.Sqrt(d), mask, po, context);
                }
            }
            Console.WriteLine($"queries={queries} keys={keys} mask={maskKind}: {flops * calls / sw.Elapsed.TotalSeconds / 1e9:F1} GFLOP/s (1 thread)");
        }
    }
}

/// <summary><c>gelu-probe</c>: <see cref="Gelu.Apply(ReadOnlySpan{float}, Span{float}, ComputeContext)"/> on the vision MLP's 6432 × 5120 activations, 2 threads.</summary>
public static class GeluProbe
{
    public static void Run()
    {
        var context = new ComputeContext(2);
        var rng = new Random(3);
        float[] x = new float[6432 * 5120], y = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)((rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5) * 2); // roughly N(0, 1)
        }
        for (int rep = 0; rep < 7; rep++)
        {
            var sw = Stopwatch.StartNew();
            Gelu.Apply(x, y, context);
            Console.WriteLine($"gelu 6432 x 5120: {sw.Elapsed.TotalMilliseconds:F1} ms");
        }
    }
}
