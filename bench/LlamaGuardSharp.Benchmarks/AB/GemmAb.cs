#if AB_BASELINE
using System.Runtime.InteropServices;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary><c>gemm-ab rounds [threads] [shape-substring]</c>: baseline vs current <c>GemmPacked</c> at the model shapes (M ≥ 10).</summary>
internal static unsafe class GemmAb
{
    public static void Run(int rounds, int threads, string filter)
    {
        var context = new ComputeContext(threads);
        var rng = new Random(1);
        foreach (GemmShape shape in GemmShape.ModelShapes)
        {
            if (shape.M < Gemm.PackedMinRows || !shape.Name.Contains(filter, StringComparison.Ordinal))
            {
                continue;
            }
            long count = (long)shape.N * shape.K;
            ushort* weights = (ushort*)NativeMemory.AlignedAlloc((nuint)(count * 2), 64);
            try
            {
                for (long i = 0; i < count; i++)
                {
                    weights[i] = (ushort)(0x3C00 + rng.Next(0x200));
                }
                var w = new WeightMatrix(weights, shape.N, shape.K, WeightType.BF16, null);
                float[] a = new float[(long)shape.M * shape.K];
                for (int i = 0; i < a.Length; i++)
                {
                    a[i] = (float)(rng.NextDouble() - 0.5);
                }
                float[] c1 = new float[(long)shape.M * shape.N], c2 = new float[c1.Length];
                fixed (float* pa = a, p1 = c1, p2 = c2)
                {
                    float* x = pa, y1 = p1, y2 = p2;
                    var t = AbRunner.Time(rounds,
                        () => Baseline.GemmPackedBaseline.Run(x, shape.M, w, null, y1, context),
                        () => GemmPacked.Run(x, shape.M, w, null, y2, context));
                    AbRunner.Report(shape.Name, shape.Flops, t, AbRunner.MaxAbsDifference(c1, c2));
                }
            }
            finally
            {
                NativeMemory.AlignedFree(weights);
            }
        }
    }
}
#endif
