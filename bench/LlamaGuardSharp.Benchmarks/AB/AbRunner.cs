#if AB_BASELINE
using System.Diagnostics;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// Interleaved A/B timing: the baseline kernel (generated from a git revision by <c>bench/ab.sh</c>) and the current one
/// run alternately, one call each per round, so both see the same background load on a shared host; the ratio of the
/// medians is what to read (single absolute times swing by ±30 % there).
/// </summary>
internal static class AbRunner
{
    public static (double BaselineMs, double CurrentMs) Time(int rounds, Action baseline, Action current)
    {
        baseline();
        current();
        double[] b = new double[rounds], c = new double[rounds];
        var sw = new Stopwatch();
        for (int r = 0; r < rounds; r++)
        {
            sw.Restart();
            baseline();
            b[r] = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            current();
            c[r] = sw.Elapsed.TotalMilliseconds;
        }
        Array.Sort(b);
        Array.Sort(c);
        return (b[rounds / 2], c[rounds / 2]);
    }

    public static double MaxAbsDifference(float[] x, float[] y)
    {
        double max = 0;
        for (int i = 0; i < x.Length; i++)
        {
            max = Math.Max(max, Math.Abs(x[i] - y[i]));
        }
        return max;
    }

    public static void Report(string name, double flops, (double BaselineMs, double CurrentMs) t, double maxDiff) =>
        Console.WriteLine($"{name,-28} baseline {t.BaselineMs,8:F1} ms ({flops / t.BaselineMs / 1e6,6:F1} GF/s)  current {t.CurrentMs,8:F1} ms " +
            $"({flops / t.CurrentMs / 1e6,6:F1} GF/s)  current/baseline {t.CurrentMs / t.BaselineMs:F3}  max |diff| {maxDiff:E1}");
}
#endif
