using System.Diagnostics;

namespace LlamaGuardSharp.Compute;

/// <summary>An attention call of the model (FLOPs counted as full squares: 4·queries·keys·heads·headDim, as docs/performance.md counts them).</summary>
internal sealed record AttentionShape(string Name, int Queries, int Keys, int Heads, int KvHeads, int HeadDim, AttentionMaskKind Mask)
{
    public double Flops => 4.0 * Queries * Keys * Heads * HeadDim;

    public static IReadOnlyList<AttentionShape> ModelShapes { get; } =
    [
        new("vision self (4 tiles, pad)", 6432, 6432, 16, 16, 80, AttentionMaskKind.PadPairs),
        new("text self prefill (causal)", 400, 400, 32, 8, 128, AttentionMaskKind.Causal),
        new("text self decode (causal)", 1, 401, 32, 8, 128, AttentionMaskKind.Causal),
        new("cross prefill (key blocks)", 400, 6404, 32, 8, 128, AttentionMaskKind.KeyBlocks),
        new("cross decode (key blocks)", 1, 6404, 32, 8, 128, AttentionMaskKind.KeyBlocks),
    ];

    /// <summary>The mask the model would use for this shape (4 tiles of 1601 real + 7 pad tokens; image after 6 tokens).</summary>
    public AttentionMask CreateMask() => Mask switch
    {
        AttentionMaskKind.PadPairs => AttentionMask.PadPairs(Enumerable.Range(0, Keys).Select(j => j % 1608 >= 1601).ToArray()),
        AttentionMaskKind.Causal => AttentionMask.Causal(Keys - Queries),
        AttentionMaskKind.KeyBlocks => AttentionMask.KeyBlocks(
            Enumerable.Range(0, Queries * 4).Select(e => Queries == 1 || e / 4 >= 6).ToArray(), 4, (Keys + 3) / 4),
        _ => AttentionMask.None,
    };
}

/// <summary>Timing of one attention shape (median seconds, GFLOP/s, fraction of the peak probe's wall GFLOP/s).</summary>
/// <see cref="CpuFractionOfPeak"/> compares GFLOP per CPU-second with the probe's (efficiency while scheduled).
internal sealed record AttentionTiming(AttentionShape Shape, double MedianSeconds, double Gflops, double FractionOfPeak, double CpuGflops,
    double CpuFractionOfPeak);

/// <summary>
/// Stopwatch benchmark of <see cref="Attention.Compute"/> at the model's shapes (random inputs); with <c>int8</c>, of
/// <see cref="AttentionInt8.Compute"/> at the shapes it serves (one KV head per query head: the vision encoder's), its
/// quantization included, GOP/s against an AVX-VNNI peak.
/// </summary>
internal static class AttentionBenchmark
{
    public static IReadOnlyList<AttentionTiming> Run(IEnumerable<AttentionShape> shapes, ComputeContext context, PeakMeasurement peak,
        int repetitions = 3, CancellationToken cancellationToken = default, bool int8 = false)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        ArgumentNullException.ThrowIfNull(peak);
        var rng = new Random(99);
        var results = new List<AttentionTiming>();
        foreach (AttentionShape shape in int8 ? shapes.Where(s => s.KvHeads == s.Heads) : shapes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            float[] q = Random(rng, (long)shape.Queries * shape.Heads * shape.HeadDim);
            float[] k = Random(rng, (long)shape.Keys * shape.KvHeads * shape.HeadDim);
            float[] v = Random(rng, (long)shape.Keys * shape.KvHeads * shape.HeadDim);
            float[] o = new float[q.Length];
            AttentionMask mask = shape.CreateMask();
            float scale = 1f / MathF.Sqrt(shape.HeadDim);
            void Call()
            {
                if (int8)
                {
                    AttentionInt8.Compute(q, shape.Queries, k, v, shape.Keys, shape.Heads, shape.HeadDim, scale, mask, o, context);
                }
                else
                {
                    Attention.Compute(q, shape.Queries, shape.Heads, k, v, shape.Keys, shape.KvHeads, shape.HeadDim, scale, mask, o, context);
                }
            }
            Call();
            double[] seconds = new double[repetitions], cpuSeconds = new double[repetitions];
            using var process = Process.GetCurrentProcess();
            for (int r = 0; r < repetitions; r++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                process.Refresh();
                TimeSpan cpu0 = process.TotalProcessorTime;
                var sw = Stopwatch.StartNew();
                Call();
                seconds[r] = sw.Elapsed.TotalSeconds;
                process.Refresh();
                cpuSeconds[r] = Math.Max((process.TotalProcessorTime - cpu0).TotalSeconds, 1e-3);
            }
            Array.Sort(seconds);
            Array.Sort(cpuSeconds);
            double median = seconds[repetitions / 2], gflops = shape.Flops / median / 1e9;
            double cpuGflops = shape.Flops / cpuSeconds[repetitions / 2] / 1e9;
            results.Add(new AttentionTiming(shape, median, gflops, gflops / peak.WallGflops, cpuGflops, cpuGflops / peak.CpuGflops));
        }
        return results;
    }

    private static float[] Random(Random rng, long count)
    {
        float[] values = new float[count];
        for (long i = 0; i < count; i++)
        {
            values[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        return values;
    }
}
