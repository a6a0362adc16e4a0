using LlamaGuardSharp.Evaluation;

namespace LlamaGuardSharp.Evaluation.Tests;

/// <summary>Metrics on small fixed sets, against values worked out by hand (the working is in the comments).</summary>
public class MetricsTests
{
    private const double Tolerance = 1e-12;

    // The tie set: labels and scores, with a positive and a negative tied at 0.8 and at 0.6.
    private static readonly int[] TieLabels = [1, 0, 1, 1, 0, 0, 1, 0];
    private static readonly double[] TieScores = [0.9, 0.8, 0.8, 0.6, 0.6, 0.3, 0.2, 0.1];

    private static readonly EvaluationOptions NoBootstrap = new() { BootstrapResamples = 0 };

    [Fact]
    public void Tie_set_at_threshold_one_half()
    {
        // p ≥ 0.5 flags 0.9, 0.8, 0.8, 0.6, 0.6: TP = 3 (0.9, 0.8, 0.6 positives), FP = 2, TN = 2 (0.3, 0.1), FN = 1 (0.2).
        var m = TaskMetrics.Compute(Items.From(TieLabels, TieScores), NoBootstrap).AtThreshold;
        Assert.Equal(new ConfusionMatrix(3, 2, 2, 1), m);
        Assert.Equal(3.0 / 5, m.Precision!.Value, Tolerance);
        Assert.Equal(3.0 / 4, m.Recall!.Value, Tolerance);
        Assert.Equal(6.0 / 9, m.F1!.Value, Tolerance); // 2·3 / (2·3 + 2 + 1)
        Assert.Equal(2.0 / 4, m.FalsePositiveRate!.Value, Tolerance);
        Assert.Equal(5.0 / 8, m.Accuracy!.Value, Tolerance);
    }

    [Fact]
    public void Tie_set_average_precision_and_roc_auc()
    {
        // Distinct thresholds, descending, with cumulative (TP, FP): 0.9 (1,0), 0.8 (2,1), 0.6 (3,2), 0.3 (3,3), 0.2 (4,3), 0.1 (4,4).
        // AP = Σ ΔR·P = ¼·1 + ¼·2/3 + ¼·3/5 + 0·½ + ¼·4/7 + 0·½ = (1 + 2/3 + 3/5 + 4/7)/4 = 298/420.
        // ROC points (FPR, TPR): (0,0) (0,¼) (¼,½) (½,¾) (¾,¾) (¾,1) (1,1); trapezoids 0 + .09375 + .15625 + .1875 + 0 + .25 = 11/16,
        // the same as the Mann–Whitney count of (positive, negative) pairs ordered correctly, ties ½: (4 + 3.5 + 2.5 + 1)/16.
        var metrics = TaskMetrics.Compute(Items.From(TieLabels, TieScores), NoBootstrap);
        Assert.Equal(298.0 / 420, metrics.Auprc!.Value, Tolerance);
        Assert.Equal(11.0 / 16, metrics.RocAuc!.Value, Tolerance);
        Assert.Equal(7, metrics.Curves.PrecisionRecall.Count); // (0, 1) and one point per distinct score
        Assert.Equal(7, metrics.Curves.Roc.Count);
    }

    [Fact]
    public void Tied_scores_give_the_same_metrics_in_any_input_order()
    {
        var forward = Items.From(TieLabels, TieScores);
        var reversed = forward.Reverse().ToArray();
        var a = TaskMetrics.Compute(forward, NoBootstrap);
        var b = TaskMetrics.Compute(reversed, NoBootstrap);
        Assert.Equal(a.Auprc, b.Auprc);
        Assert.Equal(a.RocAuc, b.RocAuc);
        Assert.Equal(a.Sweep.Points, b.Sweep.Points);
    }

    [Fact]
    public void Scikit_learn_documentation_examples()
    {
        // scikit-learn's documented examples: average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333…
        // and roc_auc_score / auc on the same data = 0.75. Worked: descending 0.8(+) 0.4(−) 0.35(+) 0.1(−):
        // AP = ½·1 + 0·½ + ½·⅔ + 0·½ = 5/6; AUC: 3 of 4 pairs ordered correctly.
        var metrics = TaskMetrics.Compute(Items.From([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), NoBootstrap);
        Assert.Equal(5.0 / 6, metrics.Auprc!.Value, Tolerance);
        Assert.Equal(0.75, metrics.RocAuc!.Value, Tolerance);
        // Two items with the same score, one of each class: one threshold, precision ½ at recall 1, so AP = ½ (not 1 or 0,
        // as an order-dependent tie-break would give); the ROC is the diagonal, AUC = ½.
        var tie = TaskMetrics.Compute(Items.From([1, 0], [1, 1]), NoBootstrap);
        Assert.Equal(0.5, tie.Auprc!.Value, Tolerance);
        Assert.Equal(0.5, tie.RocAuc!.Value, Tolerance);
    }

    [Fact]
    public void Ranking_metrics_agree_with_independent_formulas_on_random_sets()
    {
        // ROC AUC = the Mann–Whitney statistic P(score⁺ > score⁻) + ½·P(tie); with distinct scores, AP = the
        // information-retrieval mean of precision@k over the positives' ranks. Both are computed here from their own
        // definitions, not from the curves. Scores on a coarse grid so that ties occur for the AUC.
        var random = new Random(12345);
        for (int trial = 0; trial < 50; trial++)
        {
            int n = random.Next(2, 60);
            var labels = Enumerable.Range(0, n).Select(_ => random.Next(2)).ToArray();
            labels[0] = 1;
            labels[1] = 0;
            var coarse = Enumerable.Range(0, n).Select(_ => random.Next(0, 11) / 10.0).ToArray();
            double pairs = 0, concordant = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (labels[i] == 1 && labels[j] == 0)
                    {
                        pairs++;
                        concordant += coarse[i] > coarse[j] ? 1 : coarse[i] == coarse[j] ? 0.5 : 0;
                    }
            Assert.Equal(concordant / pairs, TaskMetrics.Compute(Items.From(labels, coarse), NoBootstrap).RocAuc!.Value, 1e-12);

            var distinct = Enumerable.Range(0, n).Select(i => (i + 0.5) / n).OrderBy(_ => random.Next()).ToArray();
            var ranked = Enumerable.Range(0, n).OrderByDescending(i => distinct[i]).ToArray();
            double hits = 0, sum = 0;
            for (int k = 0; k < n; k++)
            {
                if (labels[ranked[k]] == 1)
                {
                    hits++;
                    sum += hits / (k + 1);
                }
            }
            Assert.Equal(sum / hits, TaskMetrics.Compute(Items.From(labels, distinct), NoBootstrap).Auprc!.Value, 1e-12);
        }
    }

    [Fact]
    public void All_unsafe_items_leave_the_negative_rates_undefined()
    {
        // Three positives: AP = 1 (precision 1 at every recall); ROC AUC needs negatives: null. At 0.5: TP 2 (0.9, 0.5), FN 1.
        var m = TaskMetrics.Compute(Items.From([1, 1, 1], [0.2, 0.5, 0.9]), NoBootstrap);
        Assert.Equal(1.0, m.Auprc!.Value, Tolerance);
        Assert.Null(m.RocAuc);
        Assert.Equal(new ConfusionMatrix(2, 0, 0, 1), m.AtThreshold);
        Assert.Equal(1.0, m.AtThreshold.Precision);
        Assert.Equal(2.0 / 3, m.AtThreshold.Recall!.Value, Tolerance);
        Assert.Null(m.AtThreshold.FalsePositiveRate); // 0 / 0
        Assert.Null(m.Sweep.AtTargetFalsePositiveRate);
    }

    [Fact]
    public void All_safe_items_leave_recall_and_the_ranking_metrics_undefined()
    {
        // Two negatives, one flagged: precision 0/1 = 0, recall 0/0 = null, F1 = 2·0/(0 + 1 + 0) = 0, FPR ½, accuracy ½.
        var m = TaskMetrics.Compute(Items.From([0, 0], [0.7, 0.1]), NoBootstrap with { TargetRecall = 0.9 });
        Assert.Null(m.Auprc);
        Assert.Null(m.RocAuc);
        Assert.Equal(new ConfusionMatrix(0, 1, 1, 0), m.AtThreshold);
        Assert.Equal(0.0, m.AtThreshold.Precision);
        Assert.Null(m.AtThreshold.Recall);
        Assert.Equal(0.0, m.AtThreshold.F1);
        Assert.Equal(0.5, m.AtThreshold.FalsePositiveRate);
        Assert.Empty(m.Curves.PrecisionRecall);
        Assert.Empty(m.Curves.Roc);
        Assert.Null(m.Sweep.AtTargetRecall); // no recall is defined without positives
    }

    [Fact]
    public void Nothing_flagged_leaves_precision_undefined_and_no_items_leave_everything_undefined()
    {
        var m = TaskMetrics.Compute(Items.From([1, 0], [0.2, 0.1]), NoBootstrap).AtThreshold;
        Assert.Equal(new ConfusionMatrix(0, 0, 1, 1), m);
        Assert.Null(m.Precision);
        Assert.Equal(0.0, m.Recall);
        Assert.Equal(0.0, m.F1);

        var empty = TaskMetrics.Compute([], new EvaluationOptions());
        Assert.Equal(0, empty.Count);
        Assert.Null(empty.AtThreshold.Precision);
        Assert.Null(empty.AtThreshold.Recall);
        Assert.Null(empty.AtThreshold.F1);
        Assert.Null(empty.AtThreshold.FalsePositiveRate);
        Assert.Null(empty.AtThreshold.Accuracy);
        Assert.Null(empty.Auprc);
        Assert.Null(empty.Calibration.ExpectedCalibrationError);
        Assert.Null(empty.Intervals);
        Assert.Null(empty.Sweep.BestF1);
    }

    [Fact]
    public void Threshold_sweep_picks_best_f1_and_target_thresholds()
    {
        // F1 = 2TP/(2TP + FP + FN) at each candidate: above 0.9: 0; 0.9: 2/5; 0.8: 4/7; 0.6: 6/9; 0.3: 6/10; 0.2: 8/11; 0.1: 8/12.
        // FPR ≤ ¼ holds down to 0.8 (FPR ¼; at 0.6 it is ½). Recall ≥ ¾ first holds at 0.6.
        var sweep = TaskMetrics.Compute(Items.From(TieLabels, TieScores), NoBootstrap with { TargetFalsePositiveRate = 0.25, TargetRecall = 0.75 }).Sweep;
        Assert.Equal(7, sweep.Points.Count);
        Assert.True(sweep.Points[0].Threshold > 0.9);
        Assert.Equal(0.0, sweep.Points[0].Matrix.F1);
        Assert.Equal(0.2, sweep.BestF1!.Threshold);
        Assert.Equal(8.0 / 11, sweep.BestF1.Matrix.F1!.Value, Tolerance);
        Assert.Equal(0.8, sweep.AtTargetFalsePositiveRate!.Threshold);
        Assert.Equal(0.5, sweep.AtTargetFalsePositiveRate.Matrix.Recall);
        Assert.Equal(0.6, sweep.AtTargetRecall!.Threshold);
        Assert.Equal(0.5, sweep.AtTargetRecall.Matrix.FalsePositiveRate);
    }

    [Fact]
    public void Threshold_is_inclusive()
    {
        var m = TaskMetrics.Compute(Items.From(TieLabels, TieScores), NoBootstrap with { Threshold = 0.6 }).AtThreshold;
        Assert.Equal(new ConfusionMatrix(3, 2, 2, 1), m); // the two items at exactly 0.6 are flagged
    }

    [Fact]
    public void Calibration_error_and_brier_score()
    {
        // Ten bins. 0.9 → bin 9 (y 1): |1 − .9| = .1, weight 1/8; 0.8, 0.8 → bin 8 (y ½): |.5 − .8| = .3, weight 2/8;
        // 0.6, 0.6 → bin 6 (y ½): .1, 2/8; 0.3 → bin 3 (y 0): .3, 1/8; 0.2 → bin 2 (y 1): .8, 1/8; 0.1 → bin 1 (y 0): .1, 1/8.
        // ECE = .0125 + .075 + .025 + .0375 + .1 + .0125 = .2625.
        // Brier = (.01 + .64 + .04 + .16 + .36 + .09 + .64 + .01) / 8 = 1.95 / 8.
        var c = TaskMetrics.Compute(Items.From(TieLabels, TieScores), NoBootstrap).Calibration;
        Assert.Equal(0.2625, c.ExpectedCalibrationError!.Value, 1e-12);
        Assert.Equal(1.95 / 8, c.BrierScore!.Value, 1e-12);
        Assert.Equal(10, c.Bins.Count);
        Assert.Equal(2, c.Bins[8].Count);
        Assert.Equal(0.5, c.Bins[8].FractionUnsafe);
        Assert.Null(c.Bins[0].MeanProbability); // empty bin
        Assert.Equal(0, TaskMetrics.Compute(Items.From([1], [1.0]), NoBootstrap).Calibration.Bins.Take(9).Sum(b => b.Count)); // p = 1 is in the last bin
    }

    [Fact]
    public void Verdict_metrics_fail_closed_on_unparseable_verdicts()
    {
        EvaluationItem[] items =
        [
            new("a", true, 0.9, EvaluationVerdicts.Unsafe),
            new("b", false, 0.1, EvaluationVerdicts.Unparseable), // counted as unsafe: a false positive
            new("c", true, 0.2, EvaluationVerdicts.Safe),
            new("d", false, 0.3, EvaluationVerdicts.Safe),
        ];
        var m = TaskMetrics.Compute(items, NoBootstrap);
        Assert.Equal(new ConfusionMatrix(1, 1, 1, 1), m.Verdict);
        Assert.Equal(1, m.Unparseable);
        Assert.Null(TaskMetrics.Compute([.. items, new("e", true, 0.5)], NoBootstrap).Verdict); // one item without a verdict
    }

    [Fact]
    public void Per_category_one_vs_rest_with_empty_and_unknown_sets()
    {
        EvaluationItem[] items =
        [
            new("1", true, 0.9, EvaluationVerdicts.Unsafe, ["S1"], ["S1"]),            // S1 TP
            new("2", true, 0.9, EvaluationVerdicts.Unsafe, ["S2"], ["S1", "S2"]),      // S1 FN, S2 TP
            new("3", false, 0.9, EvaluationVerdicts.Unsafe, ["S10"], null),            // safe without categories = empty set: S10 FP
            new("4", false, 0.1, EvaluationVerdicts.Safe, [], []),                     // nothing
            new("5", true, 0.9, EvaluationVerdicts.Unsafe, ["S1"], null),              // unsafe, true set unknown: left out
            new("6", true, 0.9, null, null, ["S3"]),                                   // no predicted set: left out
        ];
        var scores = CategoryScore.Compute(items, out int participating);
        Assert.Equal(4, participating);
        Assert.Equal(["S1", "S2", "S10"], scores.Select(s => s.Code));
        var s1 = scores[0];
        Assert.Equal((1L, 0L, 1L, 2L), (s1.TruePositives, s1.FalsePositives, s1.FalseNegatives, s1.Support));
        Assert.Equal(1.0, s1.Precision);
        Assert.Equal(0.5, s1.Recall);
        Assert.Equal(2.0 / 3, s1.F1!.Value, Tolerance);
        Assert.Equal((1.0, 1.0, 1.0), (scores[1].Precision!.Value, scores[1].Recall!.Value, scores[1].F1!.Value));
        var s10 = scores[2];
        Assert.Equal(0, s10.Support);
        Assert.Equal(0.0, s10.Precision);
        Assert.Null(s10.Recall); // 0 / 0
        Assert.Equal(0.0, s10.F1);
    }

    [Fact]
    public void Tasks_are_reported_separately_when_both_occur()
    {
        EvaluationItem[] items =
        [
            new("p1", true, 0.9, Task: "prompt"), new("p2", false, 0.2, Task: "prompt"),
            new("r1", true, 0.4, Task: "response"), new("r2", false, 0.6, Task: "response"),
        ];
        var metrics = EvaluationMetrics.Compute(items, NoBootstrap);
        Assert.Equal(["prompt", "response"], metrics.ByTask.Keys);
        Assert.Equal(1.0, metrics.ByTask["prompt"].RocAuc);
        Assert.Equal(0.0, metrics.ByTask["response"].RocAuc);
        Assert.Equal(4, metrics.All.Count);
        Assert.Empty(EvaluationMetrics.Compute(items[..2], NoBootstrap).ByTask);
    }

    [Fact]
    public void Bootstrap_is_deterministic_for_a_seed_and_brackets_the_estimate()
    {
        var random = new Random(7);
        var labels = Enumerable.Range(0, 200).Select(i => i % 3 == 0 ? 1 : 0).ToArray();
        var scores = labels.Select(l => Math.Clamp(l * 0.35 + random.NextDouble() * 0.65, 0, 1)).ToArray();
        var items = Items.From(labels, scores);
        var options = new EvaluationOptions { BootstrapResamples = 300, Seed = 42 };
        var a = TaskMetrics.Compute(items, options);
        var b = TaskMetrics.Compute(items, options);
        var c = TaskMetrics.Compute(items, options with { Seed = 43 });
        Assert.Equal(a.Intervals, b.Intervals);
        Assert.NotEqual(a.Intervals!.RocAuc, c.Intervals!.RocAuc);
        Assert.InRange(a.RocAuc!.Value, a.Intervals.RocAuc!.Lower, a.Intervals.RocAuc.Upper);
        Assert.InRange(a.Auprc!.Value, a.Intervals.Auprc!.Lower, a.Intervals.Auprc.Upper);
        Assert.InRange(a.AtThreshold.F1!.Value, a.Intervals.F1!.Lower, a.Intervals.F1.Upper);
        Assert.True(a.Intervals.RocAuc.Upper - a.Intervals.RocAuc.Lower is > 0.01 and < 0.3);
        Assert.Equal(300, a.Intervals.RocAuc.Samples);
        // One class only: the ROC AUC is never defined, so it has no interval.
        Assert.Null(TaskMetrics.Compute(Items.From([1, 1, 1], [0.2, 0.5, 0.9]), options).Intervals!.RocAuc);
    }

    [Fact]
    public void Percentile_interpolates_linearly_as_numpy()
    {
        // numpy.percentile([1, 2, 3, 4], 2.5) = 1 + 0.075·(2 − 1) = 1.075; 97.5 → position 2.925 → 3.925.
        Assert.Equal(1.075, BootstrapIntervals.Percentile([1, 2, 3, 4], 0.025), 1e-12);
        Assert.Equal(3.925, BootstrapIntervals.Percentile([1, 2, 3, 4], 0.975), 1e-12);
    }

    [Fact]
    public void Comparison_summary_uses_the_invariant_culture()
    {
        // A decimal-comma current culture must not reach the summary that scripts grep ("agreement 1.000").
        var items = Items.From([1, 0, 1, 0], [0.9, 0.2, 0.7, 0.6]);
        var comparison = RunComparison.Compute("a", items, "b", items, NoBootstrap);
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        var comma = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
        comma.NumberFormat.NumberDecimalSeparator = ",";
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = comma;
            string text = EvaluationOutput.FormatComparison(comparison);
            Assert.Contains("agreement 1.000 at threshold 0.5:", text);
            Assert.Contains("  precision  A 0.667  B 0.667  Δ 0.000", text);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void Metric_pair_delta_is_b_minus_a_and_undefined_when_either_side_is()
    {
        Assert.Equal(-0.25, new MetricPair("f1", 0.75, 0.5).Delta!.Value, 1e-15);
        Assert.Null(new MetricPair("f1", null, 0.5).Delta);
        Assert.Null(new MetricPair("f1", 0.5, null).Delta);
    }
}
