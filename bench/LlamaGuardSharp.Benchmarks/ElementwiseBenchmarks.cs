using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// The fused elementwise kernels at the vision encoder's activation size (6432 × 1280, fc1 output 6432 × 5120) and the
/// text MLP (400 × 14336). Memory-bound: the GFLOP/s column counts one "operation" per element, so read it as
/// G elements/s.
/// </summary>
[Config(typeof(KernelConfig))]
public class ElementwiseBenchmarks : IFlopCounter
{
    private const int Tokens = 6432, Hidden = 1280, Wide = 5120, TextTokens = 400, TextWide = 14336;
    private readonly ComputeContext _context = new(2);
    private float[] _x = [], _y = [], _wide = [], _wideOut = [], _gate = [], _up = [], _weight = [], _bias = [];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        _x = R(Tokens * Hidden);
        _y = new float[Tokens * Hidden];
        _wide = R(Tokens * Wide);
        _wideOut = new float[Tokens * Wide];
        _gate = R(TextTokens * TextWide);
        _up = R(TextTokens * TextWide);
        _weight = R(Hidden);
        _bias = R(Hidden);
    }

    public double FlopsFor(BenchmarkCase benchmarkCase) => benchmarkCase.Descriptor.WorkloadMethod.Name switch
    {
        nameof(Gelu_Vision_Fc1) => (double)Tokens * Wide,
        nameof(SwiGlu_Text) => (double)TextTokens * TextWide,
        _ => (double)Tokens * Hidden,
    };

    [Benchmark]
    public void LayerNorm_Vision() => LayerNorm.Apply(_x, Tokens, Hidden, _weight, _bias, 1e-5f, _y, _context);

    [Benchmark]
    public void RmsNorm_Rows() => RmsNorm.Apply(_x, Tokens, Hidden, _weight, 1e-5f, _y, _context);

    [Benchmark]
    public void Gelu_Vision_Fc1() => Gelu.Apply(_wide, _wideOut, _context);

    [Benchmark]
    public void SwiGlu_Text() => SwiGlu.Apply(_gate, _up, _gate, _context);

    [Benchmark]
    public void Residual_Vision() => Residual.AddScaled(_y, _x, 0.5f, _context);
}
