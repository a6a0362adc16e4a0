namespace LlamaGuardSharp.Evaluation;

/// <summary>A point of a curve (PR: x = recall, y = precision; ROC: x = FPR, y = TPR) and the threshold that gives it.</summary>
public sealed record CurvePoint(double X, double Y, double Threshold);

/// <summary>
/// The precision–recall and ROC curves of one set of items, each in scikit-learn's form: the PR curve starts at
/// (recall 0, precision 1) above the highest score, the ROC curve at (0, 0); one point per distinct score after that.
/// Empty when the curve is undefined (PR: no positives; ROC: a class missing).
/// </summary>
public sealed record RankingCurves(IReadOnlyList<CurvePoint> PrecisionRecall, IReadOnlyList<CurvePoint> Roc)
{
    internal static RankingCurves From(ScoredSet set)
    {
        var pr = new List<CurvePoint>();
        var roc = new List<CurvePoint>();
        if (set.Positives > 0)
        {
            pr.Add(new CurvePoint(0, 1, double.PositiveInfinity));
            for (int n = 0; n < set.Thresholds.Length; n++)
            {
                double tp = set.CumulativePositives[n], fp = set.CumulativeNegatives[n];
                pr.Add(new CurvePoint(tp / set.Positives, tp / (tp + fp), set.Thresholds[n]));
            }
        }
        if (set.Positives > 0 && set.Negatives > 0)
        {
            roc.Add(new CurvePoint(0, 0, double.PositiveInfinity));
            for (int n = 0; n < set.Thresholds.Length; n++)
            {
                roc.Add(new CurvePoint(set.CumulativeNegatives[n] / set.Negatives, set.CumulativePositives[n] / set.Positives, set.Thresholds[n]));
            }
        }
        return new RankingCurves(pr, roc);
    }
}
