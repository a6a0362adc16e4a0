using BenchmarkDotNet.Running;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// Entry point for every BenchmarkDotNet suite: <c>dotnet run -c Release --project bench/LlamaGuardSharp.Benchmarks -- --filter '*Gemm*'</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
