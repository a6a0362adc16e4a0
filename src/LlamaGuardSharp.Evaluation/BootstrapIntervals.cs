namespace LlamaGuardSharp.Evaluation;

/// <summary>A percentile confidence interval from a bootstrap; <see cref="Samples"/> resamples had the metric defined.</summary>
public sealed record ConfidenceInterval(double Lower, double Upper, int Samples);

/// <summary>
/// 95 % percentile-bootstrap intervals: <see cref="Resamples"/> times, draw as many items as there are, with
/// replacement (SplitMix64 seeded with <see cref="Seed"/>: deterministic), compute each metric, and take the 2.5th and
/// 97.5th percentiles of the resamples where it is defined (linear interpolation between order statistics, numpy's
/// default). A metric never defined has no interval (null).
/// </summary>
public sealed record BootstrapIntervals(
    int Resamples,
    ulong Seed,
    ConfidenceInterval? Precision,
    ConfidenceInterval? Recall,
    ConfidenceInterval? F1,
    ConfidenceInterval? FalsePositiveRate,
    ConfidenceInterval? Accuracy,
    ConfidenceInterval? Auprc,
    ConfidenceInterval? RocAuc)
{
    internal static BootstrapIntervals Compute(IReadOnlyList<double> scores, IReadOnlyList<bool> labels, double threshold, int resamples, ulong seed, CancellationToken cancellationToken)
    {
        var order = ScoredSet.DescendingOrder(scores);
        var random = new SplitMix64(seed);
        var weights = new int[scores.Count];
        var values = new List<double>[7];
        for (int m = 0; m < values.Length; m++)
        {
            values[m] = new List<double>(resamples);
        }
        for (int b = 0; b < resamples; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Array.Clear(weights);
            for (int k = 0; k < scores.Count; k++)
            {
                weights[random.NextIndex(scores.Count)]++;
            }
            var set = ScoredSet.FromOrder(order, scores, labels, weights);
            var matrix = set.At(threshold);
            Add(0, matrix.Precision);
            Add(1, matrix.Recall);
            Add(2, matrix.F1);
            Add(3, matrix.FalsePositiveRate);
            Add(4, matrix.Accuracy);
            Add(5, set.AveragePrecision());
            Add(6, set.RocAuc());
        }
        return new BootstrapIntervals(resamples, seed,
            Interval(values[0]), Interval(values[1]), Interval(values[2]), Interval(values[3]), Interval(values[4]), Interval(values[5]), Interval(values[6]));

        void Add(int metric, double? value)
        {
            if (value is { } v)
            {
                values[metric].Add(v);
            }
        }
    }

    private static ConfidenceInterval? Interval(List<double> values)
    {
        if (values.Count == 0)
        {
            return null;
        }
        values.Sort();
        return new ConfidenceInterval(Percentile(values, 0.025), Percentile(values, 0.975), values.Count);
    }

    /// <summary>numpy's <c>percentile(..., method="linear")</c>: position q·(n − 1) between the sorted values.</summary>
    internal static double Percentile(List<double> sorted, double q)
    {
        double position = q * (sorted.Count - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
    }
}
