#if AB_BASELINE
using System.Runtime.InteropServices;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// <c>gemm-ab rounds [threads] [shape-substring]</c>: baseline vs current <c>GemmPacked</c> at the model shapes with
/// M ≥ <see cref="Gemm.PackedMinRows"/>, and baseline vs current <c>GemmRowDot</c> at the decode shapes. With
/// <c>coldWeights</c> (<c>bench/ab.sh REV gemm-cold</c>) the packed shapes' calls also cycle through weight copies of
/// ≥ 1 GiB in all, as the decode shapes always do, so no call finds its weights in the caches (as in the model).
/// </summary>
internal static unsafe class GemmAb
{
    public static void Run(int rounds, int threads, string filter, bool coldWeights = false)
    {
        var context = new ComputeContext(threads);
        var rng = new Random(1);
        // GEMM_AB_ROWS (bench/ab.sh's environment): the text prefill shapes at another prompt length, e.g. 738 or 1000.
        string? rowsOverride = Environment.GetEnvironmentVariable("GEMM_AB_ROWS");
        foreach (GemmShape modelShape in GemmShape.ModelShapes)
        {
            if (!modelShape.Name.Contains(filter, StringComparison.Ordinal))
            {
                continue;
            }
            GemmShape shape = rowsOverride is not null && modelShape.Name.Contains("prefill", StringComparison.Ordinal)
                ? modelShape with { Name = $"{modelShape.Name} M={rowsOverride}", M = int.Parse(rowsOverride, System.Globalization.CultureInfo.InvariantCulture) }
                : modelShape;
            long count = (long)shape.N * shape.K;
            bool packed = shape.M >= Gemm.PackedMinRows;
            // Decode GEMVs are memory-bound: cycle through enough weight copies (≥ 1 GiB) that none is still in the L3
            // when it comes round again, as in the model, where one decode step streams 17 GB of weights.
            int copies = packed && !coldWeights ? 1 : (int)Math.Max(2, (1L << 30) / (count * 2));
            ushort* weights = (ushort*)NativeMemory.AlignedAlloc((nuint)(count * 2 * copies), 64);
            try
            {
                for (long i = 0; i < count; i++)
                {
                    weights[i] = (ushort)(0x3C00 + rng.Next(0x200));
                }
                for (int copy = 1; copy < copies; copy++)
                {
                    Buffer.MemoryCopy(weights, weights + copy * count, count * 2, count * 2); // same values: results comparable
                }
                var ws = Enumerable.Range(0, copies).Select(i => new WeightMatrix(weights + i * count, shape.N, shape.K, WeightType.BF16, null)).ToArray();
                int call = 0; // packed shapes: one copy per call, round robin
                float[] a = new float[(long)shape.M * shape.K];
                for (int i = 0; i < a.Length; i++)
                {
                    a[i] = (float)(rng.NextDouble() - 0.5);
                }
                float[] c1 = new float[(long)shape.M * shape.N], c2 = new float[c1.Length];
                // Vision fc2 also as the model runs it: GELU applied to A while it is packed.
                foreach (bool gelu in shape.Name == "vision fc2" ? new[] { false, true } : new[] { false })
                {
                fixed (float* pa = a, p1 = c1, p2 = c2)
                {
                    float* x = pa, y1 = p1, y2 = p2;
                    var t = AbRunner.Time(rounds,
                        () =>
                        {
                            if (packed)
                            {
                                Baseline.GemmPackedBaseline.Run(x, shape.M, ws[call++ % copies], null, y1, context, gelu);
                                return;
                            }
                            foreach (var wi in ws)
                            {
                                Baseline.GemmRowDotBaseline.Run(x, shape.M, wi, null, y1, context);
                            }
                        },
                        () =>
                        {
                            if (packed)
                            {
                                GemmPacked.Run(x, shape.M, ws[call++ % copies], null, y2, context, gelu);
                                return;
                            }
                            foreach (var wi in ws)
                            {
                                GemmRowDot.Run(x, shape.M, wi, null, y2, context);
                            }
                        });
                    int perCall = packed ? 1 : copies;
                    AbRunner.Report(gelu ? shape.Name + " (GELU of A)" : shape.Name, shape.Flops, (t.BaselineMs / perCall, t.CurrentMs / perCall), AbRunner.MaxAbsDifference(c1, c2));
                }
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
