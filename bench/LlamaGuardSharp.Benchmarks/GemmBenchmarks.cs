using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// <see cref="Gemm.MatMulTransposed"/> with bf16 weights at every model shape (<see cref="GemmShape.ModelShapes"/>), 2 threads.
/// Run: <c>dotnet run -c Release --project bench/LlamaGuardSharp.Benchmarks -- --filter '*GemmBenchmarks*'</c>.
/// </summary>
[Config(typeof(KernelConfig))]
public unsafe class GemmBenchmarks : IFlopCounter
{
    private float[] _a = [];
    private float[] _c = [];
    private ushort* _weights;
    private WeightMatrix? _matrix;
    private readonly ComputeContext _context = new(2);

    public static IEnumerable<string> ShapeNames => GemmShape.ModelShapes.Select(s => s.Name);

    [ParamsSource(nameof(ShapeNames))]
    public string Shape { get; set; } = "";

    private static GemmShape Find(string name) => GemmShape.ModelShapes.First(s => s.Name == name);

    public double FlopsFor(BenchmarkCase benchmarkCase) => Find((string)benchmarkCase.Parameters["Shape"]).Flops;

    [GlobalSetup]
    public void Setup()
    {
        GemmShape s = Find(Shape);
        var rng = new Random(1);
        long count = (long)s.N * s.K;
        _weights = (ushort*)NativeMemory.AlignedAlloc((nuint)(count * 2), 64);
        for (long i = 0; i < count; i++)
        {
            _weights[i] = (ushort)(0x3C00 + rng.Next(0x200));
        }
        _matrix = new WeightMatrix(_weights, s.N, s.K, WeightType.BF16, null);
        _a = Enumerable.Range(0, s.M * s.K).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        _c = new float[(long)s.M * s.N];
    }

    [GlobalCleanup]
    public void Cleanup() => NativeMemory.AlignedFree(_weights);

    [Benchmark]
    public void MatMulTransposed() => Gemm.MatMulTransposed(_a, Find(Shape).M, _matrix!, [], _c, _context);
}
