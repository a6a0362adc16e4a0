using BenchmarkDotNet.Running;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// Entry point for every BenchmarkDotNet suite: <c>dotnet run -c Release --project bench/LlamaGuardSharp.Benchmarks -- --filter '*Gemm*'</c>.
/// <c>-- gemm-quick [threads] [reps] [shape-substring]</c> runs the fast Stopwatch mode instead (see <see cref="QuickMode"/>).
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        if (args.Length > 0 && QuickMode.TryRun(args))
        {
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
