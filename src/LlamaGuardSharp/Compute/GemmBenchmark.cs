using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LlamaGuardSharp.Compute;

/// <summary>A GEMM shape of the model: C[M, N] = A[M, K] · Wᵀ with bf16 W.</summary>
internal sealed record GemmShape(string Name, int M, int K, int N)
{
    public double Flops => 2.0 * M * K * N;

    /// <summary>
    /// The model's GEMM shapes (docs/performance.md): vision encoder, projector, text prefill (≈400 tokens), decode. "(fused)" rows
    /// are the calls the model makes (projections of one input in one GEMM); the single-weight rows (q/o, k/v, gate/up)
    /// are what an unfused implementation such as HF transformers runs, kept for the PyTorch comparison.
    /// </summary>
    public static IReadOnlyList<GemmShape> ModelShapes { get; } =
    [
        new("vision qkv (fused)", 6432, 1280, 3840),
        new("vision o_proj", 6432, 1280, 1280),
        new("vision fc1", 6432, 1280, 5120),
        new("vision fc2", 6432, 5120, 1280),
        new("projector", 6404, 7680, 4096),
        new("cross k+v (fused)", 6404, 4096, 2048),
        new("text q+k+v prefill (fused)", 400, 4096, 6144),
        new("text q/o prefill", 400, 4096, 4096),
        new("text k/v prefill", 400, 4096, 1024),
        new("text gate+up prefill (fused)", 400, 4096, 28672),
        new("text gate/up prefill", 400, 4096, 14336),
        new("text down prefill", 400, 14336, 4096),
        new("text q/o decode", 1, 4096, 4096),
        new("text gate/up decode", 1, 4096, 14336),
        new("text down decode", 1, 14336, 4096),
        new("lm_head decode", 1, 4096, 128256),
    ];
}

/// <summary>Timing of one shape: median seconds over the repetitions, GFLOP/s, fraction of the peak probe, weight GB/s.</summary>
/// <see cref="CpuGflops"/> is GFLOP per CPU-second of this process and <see cref="CpuFractionOfPeak"/> its ratio to the
/// probe's GFLOP per CPU-second: the kernel's efficiency while scheduled, robust to other load on a shared machine.
internal sealed record GemmTiming(GemmShape Shape, double MedianSeconds, double Gflops, double FractionOfPeak, double WeightGBps,
    double CpuGflops, double CpuFractionOfPeak);

/// <summary>
/// Stopwatch-based GEMM benchmark over random bf16 weights (with <c>int8</c>: the same weights quantized, timed on the
/// int8 path, activation quantization included; GOP/s then, against an AVX-VNNI peak) (the measuring logic behind <c>gemm-quick</c> and
/// <c>llamaguard bench</c>): warm-up calls (see <c>WarmUp</c>), then the median of <c>repetitions</c> timed calls per shape.
/// </summary>
/// <remarks>With <c>coldWeights</c> the calls cycle through copies of the weight matrix (≥ 1 GiB in all), so no call
/// finds its weights in the caches, as in the model, which streams 21 GB of weights per classification; otherwise a
/// repeated call may find a weight of up to a few hundred MB in the L3 (a 260 MB L3 was seen), which flatters the B
/// packing of the text shapes.</remarks>
internal static class GemmBenchmark
{
    public static unsafe IReadOnlyList<GemmTiming> Run(IEnumerable<GemmShape> shapes, ComputeContext context, PeakMeasurement peak,
        int repetitions = 5, CancellationToken cancellationToken = default, bool coldWeights = false, bool int8 = false)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(peak);
        using var process = Process.GetCurrentProcess();
        var results = new List<GemmTiming>();
        var rng = new Random(1234);
        foreach (GemmShape shape in shapes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long weightCount = (long)shape.N * shape.K;
            int copies = coldWeights ? (int)Math.Max(2, ((1L << 30) + weightCount * 2 - 1) / (weightCount * 2)) : 1;
            ushort* weights = (ushort*)NativeMemory.AlignedAlloc((nuint)(weightCount * 2 * copies), 64);
            try
            {
                for (long i = 0; i < weightCount; i++)
                {
                    weights[i] = (ushort)(0x3C00 + rng.Next(0x200)); // bf16 in ~[0.0078, 0.031): finite, varied
                }
                for (int copy = 1; copy < copies; copy++)
                {
                    Buffer.MemoryCopy(weights, weights + copy * weightCount, weightCount * 2, weightCount * 2);
                }
                var matrices = new WeightMatrix[copies];
                for (int copy = 0; copy < copies; copy++)
                {
                    matrices[copy] = new WeightMatrix(weights + copy * weightCount, shape.N, shape.K, WeightType.BF16, null);
                }
                if (int8)
                {
                    // The same weights quantized; as many cold copies as bf16 (≥ 512 MiB in all, still far past the L3).
                    WeightMatrix quantized = Int8Weights.QuantizeToMatrix(matrices[0]);
                    matrices = new WeightMatrix[copies];
                    matrices[0] = quantized;
                    for (int copy = 1; copy < matrices.Length; copy++)
                    {
                        matrices[copy] = Int8Weights.Copy(quantized);
                    }
                }
                float[] a = new float[(long)shape.M * shape.K];
                for (int i = 0; i < a.Length; i++)
                {
                    a[i] = (float)(rng.NextDouble() - 0.5);
                }
                float[] c = new float[(long)shape.M * shape.N];
                int warmUpCalls = WarmUp(a, shape.M, matrices, c, context, cancellationToken);
                double[] seconds = new double[repetitions], cpuSeconds = new double[repetitions];
                var sw = new Stopwatch();
                for (int r = 0; r < repetitions; r++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    WeightMatrix matrix = matrices[(warmUpCalls + r) % copies]; // cold weights: continue the warm-up's cycle
                    process.Refresh();
                    TimeSpan cpu0 = process.TotalProcessorTime;
                    sw.Restart();
                    Gemm.MatMulTransposed(a, shape.M, matrix, [], c, context);
                    seconds[r] = sw.Elapsed.TotalSeconds;
                    process.Refresh();
                    cpuSeconds[r] = Math.Max((process.TotalProcessorTime - cpu0).TotalSeconds, 1e-3);
                }
                Array.Sort(seconds);
                Array.Sort(cpuSeconds);
                double median = seconds[repetitions / 2], cpuMedian = cpuSeconds[repetitions / 2];
                double gflops = shape.Flops / median / 1e9, cpuGflops = shape.Flops / cpuMedian / 1e9;
                results.Add(new GemmTiming(shape, median, gflops, gflops / peak.WallGflops, weightCount * (int8 ? 1 : 2) / median / 1e9,
                    cpuGflops, cpuGflops / peak.CpuGflops));
            }
            finally
            {
                NativeMemory.AlignedFree(weights);
            }
        }
        return results;
    }

    /// <summary>Warm-up: at least <see cref="WarmUpCalls"/> calls and <see cref="WarmUpSeconds"/> (at most
    /// <see cref="WarmUpMaxCalls"/> calls).</summary>
    /// <remarks>Why more than one call: the GEMM's packing and scheduling code starts as tier-0 JIT code and is
    /// recompiled (tier 1) in the background only after 30 calls and a quiet 100 ms, and the worker threads and the
    /// pack buffers settle over the first calls; a single warm-up call under-reports short GEMMs such as text k/v. The
    /// model calls every shape tens of times per classification, so the warmed figure is the one that applies.</remarks>
    private static int WarmUp(float[] a, int m, WeightMatrix[] matrices, float[] c, ComputeContext context, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        int call = 0;
        for (; call < WarmUpMaxCalls && (call < WarmUpCalls || sw.Elapsed.TotalSeconds < WarmUpSeconds); call++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Gemm.MatMulTransposed(a, m, matrices[call % matrices.Length], [], c, context);
        }
        return call;
    }

    private const int WarmUpCalls = 3;
    private const int WarmUpMaxCalls = 40;
    private const double WarmUpSeconds = 0.4;
}
