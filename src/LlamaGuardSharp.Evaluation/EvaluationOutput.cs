using System.Globalization;
using System.Text;

namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// Writes an evaluation's files into its output folder: <c>metrics.json</c>, <c>sweep.csv</c> (every distinct
/// threshold), the plots (<c>NAME.png</c>, <c>NAME.svg</c>) and <c>report.html</c>; for a comparison <c>compare.json</c>,
/// its plots and <c>report.html</c>. Also formats the summaries printed on stdout.
/// </summary>
public static class EvaluationOutput
{
    /// <summary>Computes the metrics of <paramref name="items"/> and writes every file; returns the metrics.</summary>
    public static async Task<EvaluationMetrics> WriteAsync(string source, IReadOnlyList<EvaluationItem> items, EvaluationOptions options, string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        var metrics = EvaluationMetrics.Compute(items, options, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "metrics.json"), MetricsJson.Serialize(metrics), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "sweep.csv"), SweepCsv(metrics.All.Sweep), cancellationToken);
        var plots = EvaluationPlots.Write(metrics, directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "report.html"), HtmlReport.Render(source, metrics, plots, DateTimeOffset.UtcNow), cancellationToken);
        return metrics;
    }

    /// <summary>Compares two result sets and writes every file; returns the comparison.</summary>
    public static async Task<RunComparison> WriteComparisonAsync(string nameA, IReadOnlyList<EvaluationItem> a, string nameB, IReadOnlyList<EvaluationItem> b,
        EvaluationOptions options, string directory, CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(directory);
        var comparison = RunComparison.Compute(nameA, a, nameB, b, options, cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(directory, "compare.json"), MetricsJson.Serialize(comparison), cancellationToken);
        var plots = EvaluationPlots.Write(comparison, directory);
        await File.WriteAllTextAsync(Path.Combine(directory, "report.html"), HtmlReport.Render(comparison, plots, DateTimeOffset.UtcNow), cancellationToken);
        return comparison;
    }

    /// <summary>The sweep as CSV: threshold, tp, fp, tn, fn, precision, recall, f1, fpr (empty cell = undefined).</summary>
    public static string SweepCsv(ThresholdSweep sweep)
    {
        var csv = new StringBuilder("threshold,tp,fp,tn,fn,precision,recall,f1,fpr\n");
        foreach (var p in sweep.Points)
        {
            var m = p.Matrix;
            csv.Append(CultureInfo.InvariantCulture, $"{p.Threshold:R},{m.TruePositives},{m.FalsePositives},{m.TrueNegatives},{m.FalseNegatives},")
                .Append(CultureInfo.InvariantCulture, $"{m.Precision:R},{m.Recall:R},{m.F1:R},{m.FalsePositiveRate:R}\n");
        }
        return csv.ToString();
    }

    /// <summary>The summary table printed after an evaluation: one row per scope, at the threshold and for the verdict.</summary>
    public static string FormatTable(EvaluationMetrics metrics)
    {
        var scopes = new List<(string Name, TaskMetrics Metrics)> { ("all", metrics.All) };
        scopes.AddRange(metrics.ByTask.Select(kv => (kv.Key, kv.Value)));
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{"items",-10} {"decision",-10} {"count",6} {"unsafe",6} {"TP",5} {"FP",5} {"TN",5} {"FN",5} {"prec",6} {"recall",6} {"F1",6} {"FPR",6} {"acc",6} {"AUPRC",6} {"ROCAUC",6}\n");
        foreach (var (name, m) in scopes)
        {
            Row(name, $"p≥{m.Threshold:0.###}", m, m.AtThreshold);
            if (m.Verdict is { } verdict)
            {
                Row(name, "verdict", m, verdict);
            }
        }
        var all = metrics.All;
        if (all.Sweep.BestF1 is { } best)
        {
            text.Append(CultureInfo.InvariantCulture, $"best F1 {F(best.Matrix.F1)} at threshold {best.Threshold:G6}");
            if (all.Sweep.TargetFalsePositiveRate is { } fpr)
                text.Append(CultureInfo.InvariantCulture, $"; FPR ≤ {fpr:0.###}: {(all.Sweep.AtTargetFalsePositiveRate is { } p ? $"threshold {p.Threshold:G6} (recall {F(p.Matrix.Recall)})" : "not reachable")}");
            if (all.Sweep.TargetRecall is { } recall)
                text.Append(CultureInfo.InvariantCulture, $"; recall ≥ {recall:0.###}: {(all.Sweep.AtTargetRecall is { } p ? $"threshold {p.Threshold:G6} (FPR {F(p.Matrix.FalsePositiveRate)})" : "not reachable")}");
            text.Append('\n');
        }
        text.Append(CultureInfo.InvariantCulture, $"ECE {F(all.Calibration.ExpectedCalibrationError)}, Brier {F(all.Calibration.BrierScore)}, unparseable verdicts {all.Unparseable}\n");
        return text.ToString();

        void Row(string name, string decision, TaskMetrics m, ConfusionMatrix c) =>
            text.Append(CultureInfo.InvariantCulture,
                $"{name,-10} {decision,-10} {m.Count,6} {m.Positives,6} {c.TruePositives,5} {c.FalsePositives,5} {c.TrueNegatives,5} {c.FalseNegatives,5} {F(c.Precision),6} {F(c.Recall),6} {F(c.F1),6} {F(c.FalsePositiveRate),6} {F(c.Accuracy),6} {F(m.Auprc),6} {F(m.RocAuc),6}\n");
    }

    /// <summary>
    /// The summary printed after a comparison: the item counts, agreement and flips at the threshold, McNemar's test
    /// and each headline metric of A and B with B − A. Invariant culture (scripts read it).
    /// </summary>
    public static string FormatComparison(RunComparison comparison)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{comparison.Common} items in both ({comparison.OnlyInA.Count} only in A, {comparison.OnlyInB.Count} only in B, {comparison.LabelConflicts.Count} label conflicts)\n");
        text.Append(CultureInfo.InvariantCulture, $"agreement {F(comparison.Agreement)} at threshold {comparison.Threshold:0.###}: {comparison.SafeToUnsafe.Count} safe→unsafe, {comparison.UnsafeToSafe.Count} unsafe→safe\n");
        text.Append(CultureInfo.InvariantCulture, $"McNemar ({comparison.McNemar.Method}): only A correct {comparison.McNemar.OnlyACorrect}, only B correct {comparison.McNemar.OnlyBCorrect}, p = {comparison.McNemar.PValue:G4}\n");
        foreach (var pair in comparison.MetricPairs())
        {
            string delta = pair.Delta is { } d ? d.ToString("+0.000;-0.000;0.000", CultureInfo.InvariantCulture) : "—";
            text.Append(CultureInfo.InvariantCulture, $"  {pair.Name,-10} A {F(pair.A)}  B {F(pair.B)}  Δ {delta}\n");
        }
        return text.ToString();
    }

    private static string F(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "—";
}
