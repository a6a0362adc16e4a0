namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// One bin of the reliability diagram: the items with p(unsafe) in [<see cref="Lower"/>, <see cref="Upper"/>) (the
/// last bin includes 1), their mean p(unsafe) and the fraction of them labelled unsafe. Means are null in an empty bin.
/// </summary>
public sealed record ReliabilityBin(double Lower, double Upper, int Count, double? MeanProbability, double? FractionUnsafe);

/// <summary>
/// How well p(unsafe) matches the observed frequency of unsafe labels. Expected calibration error over
/// <see cref="Bins"/> equal-width bins: ECE = Σ_b (n_b / N)·|fraction_unsafe_b − mean_p_b|; Brier score =
/// (1/N)·Σ (p − y)². Both null without items.
/// </summary>
public sealed record CalibrationResult(IReadOnlyList<ReliabilityBin> Bins, double? ExpectedCalibrationError, double? BrierScore)
{
    internal static CalibrationResult Compute(IReadOnlyList<double> scores, IReadOnlyList<bool> labels, int binCount)
    {
        var counts = new int[binCount];
        var sumP = new double[binCount];
        var sumY = new double[binCount];
        double brier = 0;
        for (int i = 0; i < scores.Count; i++)
        {
            double p = scores[i];
            int bin = Math.Clamp((int)Math.Floor(p * binCount), 0, binCount - 1);
            counts[bin]++;
            sumP[bin] += p;
            double y = labels[i] ? 1 : 0;
            sumY[bin] += y;
            brier += (p - y) * (p - y);
        }
        var bins = new ReliabilityBin[binCount];
        double ece = 0;
        for (int b = 0; b < binCount; b++)
        {
            double? meanP = counts[b] == 0 ? null : sumP[b] / counts[b];
            double? fraction = counts[b] == 0 ? null : sumY[b] / counts[b];
            bins[b] = new ReliabilityBin((double)b / binCount, (double)(b + 1) / binCount, counts[b], meanP, fraction);
            if (counts[b] > 0)
            {
                ece += (double)counts[b] / scores.Count * Math.Abs(fraction!.Value - meanP!.Value);
            }
        }
        return scores.Count == 0
            ? new CalibrationResult(bins, null, null)
            : new CalibrationResult(bins, ece, brier / scores.Count);
    }
}
