namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// Counts of a binary decision against the labels (positive = unsafe) and the ratios the model card reports. A ratio
/// whose denominator is 0 is undefined and null (never 0): e.g. precision when nothing was flagged.
/// </summary>
public sealed record ConfusionMatrix(long TruePositives, long FalsePositives, long TrueNegatives, long FalseNegatives)
{
    /// <summary>All items.</summary>
    public long Count => TruePositives + FalsePositives + TrueNegatives + FalseNegatives;

    /// <summary>TP / (TP + FP).</summary>
    public double? Precision => Ratio(TruePositives, TruePositives + FalsePositives);

    /// <summary>TP / (TP + FN), the true-positive rate.</summary>
    public double? Recall => Ratio(TruePositives, TruePositives + FalseNegatives);

    /// <summary>2·TP / (2·TP + FP + FN): the harmonic mean of precision and recall, defined whenever either is.</summary>
    public double? F1 => Ratio(2 * TruePositives, 2 * TruePositives + FalsePositives + FalseNegatives);

    /// <summary>FP / (FP + TN), the false-positive rate.</summary>
    public double? FalsePositiveRate => Ratio(FalsePositives, FalsePositives + TrueNegatives);

    /// <summary>(TP + TN) / count.</summary>
    public double? Accuracy => Ratio(TruePositives + TrueNegatives, Count);

    /// <summary>The matrix of decisions <paramref name="predicted"/> against labels <paramref name="actual"/>.</summary>
    public static ConfusionMatrix From(IEnumerable<(bool Actual, bool Predicted)> pairs)
    {
        long tp = 0, fp = 0, tn = 0, fn = 0;
        foreach (var (actual, predicted) in pairs)
        {
            if (predicted)
            {
                if (actual) tp++; else fp++;
            }
            else
            {
                if (actual) fn++; else tn++;
            }
        }
        return new ConfusionMatrix(tp, fp, tn, fn);
    }

    internal static double? Ratio(double numerator, double denominator) => denominator == 0 ? null : numerator / denominator;
}
