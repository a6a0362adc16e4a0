namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// Threshold calibration on p(unsafe): every distinct score is a candidate threshold t (decision: unsafe when
/// p ≥ t), plus one just above the highest score (nothing flagged). From these it picks the threshold that maximises F1,
/// the lowest threshold whose FPR is within a target (the most recall that FPR budget allows), and the highest threshold
/// whose recall reaches a target (the fewest false positives that recall needs).
/// </summary>
public sealed record ThresholdSweep(
    IReadOnlyList<ThresholdPoint> Points,
    ThresholdPoint? BestF1,
    double? TargetFalsePositiveRate,
    ThresholdPoint? AtTargetFalsePositiveRate,
    double? TargetRecall,
    ThresholdPoint? AtTargetRecall)
{
    internal static ThresholdSweep From(ScoredSet set, double? targetFpr, double? targetRecall)
    {
        var points = new List<ThresholdPoint>();
        if (set.Thresholds.Length > 0)
        {
            points.Add(new ThresholdPoint(Math.BitIncrement(set.Thresholds[0]),
                new ConfusionMatrix(0, 0, (long)set.Negatives, (long)set.Positives)));
        }
        points.AddRange(set.Points());

        // Points are in descending threshold order: the first maximum of F1 is the highest threshold achieving it.
        ThresholdPoint? best = null;
        foreach (var p in points)
        {
            if (p.Matrix.F1 is { } f1 && (best?.Matrix.F1 is not { } bestF1 || f1 > bestF1))
            {
                best = p;
            }
        }
        // FPR is non-increasing in the threshold: the last point within the budget is the lowest such threshold.
        ThresholdPoint? atFpr = targetFpr is { } fprBudget ? points.LastOrDefault(p => p.Matrix.FalsePositiveRate is { } fpr && fpr <= fprBudget) : null;
        // Recall is non-increasing in the threshold: the first point reaching the target is the highest such threshold.
        ThresholdPoint? atRecall = targetRecall is { } recallTarget ? points.FirstOrDefault(p => p.Matrix.Recall is { } r && r >= recallTarget) : null;
        return new ThresholdSweep(points, best, targetFpr, atFpr, targetRecall, atRecall);
    }
}
