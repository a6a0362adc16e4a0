using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary><see cref="Attention.Compute"/> at the model's attention shapes (<see cref="AttentionShape.ModelShapes"/>), 2 threads.</summary>
[Config(typeof(KernelConfig))]
public class AttentionBenchmarks : IFlopCounter
{
    private float[] _q = [], _k = [], _v = [], _o = [];
    private AttentionMask _mask = AttentionMask.None;
    private readonly ComputeContext _context = new(2);

    public static IEnumerable<string> ShapeNames => AttentionShape.ModelShapes.Select(s => s.Name);

    [ParamsSource(nameof(ShapeNames))]
    public string Shape { get; set; } = "";

    private static AttentionShape Find(string name) => AttentionShape.ModelShapes.First(s => s.Name == name);

    public double FlopsFor(BenchmarkCase benchmarkCase) => Find((string)benchmarkCase.Parameters["Shape"]).Flops;

    [GlobalSetup]
    public void Setup()
    {
        AttentionShape s = Find(Shape);
        var rng = new Random(2);
        _q = Enumerable.Range(0, s.Queries * s.Heads * s.HeadDim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        _k = Enumerable.Range(0, s.Keys * s.KvHeads * s.HeadDim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        _v = Enumerable.Range(0, s.Keys * s.KvHeads * s.HeadDim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        _o = new float[_q.Length];
        _mask = s.CreateMask();
    }

    [Benchmark]
    public void Compute()
    {
        AttentionShape s = Find(Shape);
        Attention.Compute(_q, s.Queries, s.Heads, _k, _v, s.Keys, s.KvHeads, s.HeadDim, 1f / MathF.Sqrt(s.HeadDim), _mask, _o, _context);
    }
}
