#if AB_BASELINE
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary><c>attention-ab rounds [threads] [shape-substring]</c>: baseline vs current <c>AttentionTiled</c> at the model shapes.</summary>
internal static unsafe class AttentionAb
{
    public static void Run(int rounds, int threads, string filter)
    {
        var context = new ComputeContext(threads);
        var rng = new Random(1);
        foreach (AttentionShape shape in AttentionShape.ModelShapes)
        {
            if (!shape.Name.Contains(filter, StringComparison.Ordinal))
            {
                continue;
            }
            float[] q = Random(rng, (long)shape.Queries * shape.Heads * shape.HeadDim);
            float[] k = Random(rng, (long)shape.Keys * shape.KvHeads * shape.HeadDim);
            float[] v = Random(rng, k.Length);
            float[] o1 = new float[q.Length], o2 = new float[q.Length];
            AttentionMask mask = shape.CreateMask();
            float scale = 1f / MathF.Sqrt(shape.HeadDim);
            fixed (float* pq = q, pk = k, pv = v, p1 = o1, p2 = o2)
            {
                float* xq = pq, xk = pk, xv = pv, y1 = p1, y2 = p2;
                var t = AbRunner.Time(rounds,
                    () => Baseline.AttentionTiledBaseline.Run(xq, shape.Queries, shape.Heads, xk, xv, shape.Keys, shape.KvHeads, shape.HeadDim, scale, mask, y1, context),
                    () => AttentionTiled.Run(xq, shape.Queries, shape.Heads, xk, xv, shape.Keys, shape.KvHeads, shape.HeadDim, scale, mask, y2, context));
                AbRunner.Report(shape.Name, shape.Flops, t, AbRunner.MaxAbsDifference(o1, o2));
            }
        }
    }

    private static float[] Random(Random rng, long length)
    {
        var values = new float[length];
        for (long i = 0; i < length; i++)
        {
            values[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        return values;
    }
}
#endif
