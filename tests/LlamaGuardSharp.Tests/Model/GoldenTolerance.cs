using System.Collections.Concurrent;

namespace LlamaGuardSharp.Tests.Model;

/// <summary>
/// The project's float32 golden tolerance |a − b| ≤ 1e-4 + 1e-4·|b| (b = golden), with the worst errors seen per tensor
/// kind recorded for reporting.
/// </summary>
public sealed class GoldenTolerance
{
    public const float Absolute = 1e-4f;
    public const float Relative = 1e-4f;

    /// <summary>Worst absolute error and worst |a−b|/|b| (over |b| ≥ 1e-3) per tensor kind.</summary>
    public ConcurrentDictionary<string, (double MaxAbs, double MaxRel)> Worst { get; } = new();

    public void AssertClose(string kind, string what, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.True(actual.Length == expected.Length, $"{what}: {actual.Length} values, golden has {expected.Length}");
        double maxAbs = 0, maxRel = 0;
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], b = expected[i];
            double diff = Math.Abs(a - b);
            if (double.IsNaN(a) != double.IsNaN(b))
            {
                diff = double.PositiveInfinity;
            }
            maxAbs = Math.Max(maxAbs, diff);
            if (Math.Abs(b) >= 1e-3)
            {
                maxRel = Math.Max(maxRel, diff / Math.Abs(b));
            }
            double excess = diff - (Absolute + Relative * Math.Abs(b));
            if (excess > worstExcess)
            {
                worstExcess = excess;
                worst = i;
            }
        }
        Worst.AddOrUpdate(kind, (maxAbs, maxRel), (_, old) => (Math.Max(old.MaxAbs, maxAbs), Math.Max(old.MaxRel, maxRel)));
        Assert.True(worst < 0, worst < 0 ? "" : $"{what}: element {worst} is {actual[worst]}, golden {expected[worst]} (max abs error {maxAbs:E3})");
    }

    public string Report() => string.Join(Environment.NewLine,
        Worst.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: max abs {kv.Value.MaxAbs:E2}, max rel {kv.Value.MaxRel:E2}"));
}
