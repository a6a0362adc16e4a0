namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// Every metric of one set of items (all of them, or one task's). Immutable. See docs/evaluation.md for the formulas.
/// </summary>
/// <param name="Count">Items.</param>
/// <param name="Positives">Items labelled unsafe.</param>
/// <param name="Threshold">The decision threshold of <see cref="AtThreshold"/>.</param>
/// <param name="AtThreshold">Decision "unsafe when p(unsafe) ≥ threshold" against the labels.</param>
/// <param name="Verdict">The greedy verdict against the labels (unparseable = unsafe); null unless every item has a verdict.</param>
/// <param name="Unparseable">Items whose verdict was unparseable.</param>
/// <param name="Auprc">Average precision (scikit-learn's <c>average_precision_score</c>); null without positives.</param>
/// <param name="RocAuc">ROC AUC (trapezoidal, ties grouped); null unless both classes occur.</param>
/// <param name="Sweep">The threshold sweep with the best-F1 and target thresholds.</param>
/// <param name="Curves">The PR and ROC curves.</param>
/// <param name="Intervals">Bootstrap 95 % intervals; null when turned off or without items.</param>
/// <param name="Calibration">Reliability bins, ECE and Brier score.</param>
/// <param name="PerCategory">One-vs-rest per category, ordered by code.</param>
/// <param name="CategoryItems">Items that took part in the per-category metrics.</param>
/// <param name="Scores">p(unsafe) of each item, in input order (for the histograms).</param>
/// <param name="Labels">The label of each item, parallel to <paramref name="Scores"/>.</param>
public sealed record TaskMetrics(
    int Count,
    int Positives,
    double Threshold,
    ConfusionMatrix AtThreshold,
    ConfusionMatrix? Verdict,
    int Unparseable,
    double? Auprc,
    double? RocAuc,
    ThresholdSweep Sweep,
    RankingCurves Curves,
    BootstrapIntervals? Intervals,
    CalibrationResult Calibration,
    IReadOnlyList<CategoryScore> PerCategory,
    int CategoryItems,
    IReadOnlyList<double> Scores,
    IReadOnlyList<bool> Labels)
{
    /// <summary>Computes every metric of <paramref name="items"/>.</summary>
    public static TaskMetrics Compute(IReadOnlyList<EvaluationItem> items, EvaluationOptions options, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var scores = items.Select(i => i.UnsafeProbability).ToArray();
        var labels = items.Select(i => i.IsUnsafe).ToArray();
        var set = ScoredSet.Create(scores, labels);
        ConfusionMatrix? verdict = items.All(i => i.VerdictSaysUnsafe is not null)
            ? ConfusionMatrix.From(items.Select(i => (i.IsUnsafe, i.VerdictSaysUnsafe!.Value)))
            : null;
        var perCategory = CategoryScore.Compute(items, out int categoryItems);
        BootstrapIntervals? intervals = options.BootstrapResamples > 0 && items.Count > 0
            ? BootstrapIntervals.Compute(scores, labels, options.Threshold, options.BootstrapResamples, options.Seed, cancellationToken)
            : null;
        return new TaskMetrics(
            items.Count,
            labels.Count(l => l),
            options.Threshold,
            set.At(options.Threshold),
            verdict,
            items.Count(i => i.Verdict == EvaluationVerdicts.Unparseable),
            set.AveragePrecision(),
            set.RocAuc(),
            ThresholdSweep.From(set, options.TargetFalsePositiveRate, options.TargetRecall),
            RankingCurves.From(set),
            intervals,
            CalibrationResult.Compute(scores, labels, options.CalibrationBins),
            perCategory,
            categoryItems,
            scores,
            labels);
    }
}
