namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// Two results files on the same items (matched by id): how often their decisions at the threshold agree, which items
/// flip in each direction, McNemar's test on their correctness, and the change of every headline metric (B − A) over
/// the common items. Immutable.
/// </summary>
public sealed record RunComparison(
    string NameA,
    string NameB,
    int Common,
    IReadOnlyList<string> OnlyInA,
    IReadOnlyList<string> OnlyInB,
    double Threshold,
    double? Agreement,
    double? MeanAbsoluteProbabilityDifference,
    double? MaxAbsoluteProbabilityDifference,
    IReadOnlyList<string> SafeToUnsafe,
    IReadOnlyList<string> UnsafeToSafe,
    IReadOnlyList<string> LabelConflicts,
    McNemarTest McNemar,
    TaskMetrics MetricsA,
    TaskMetrics MetricsB)
{
    /// <summary>
    /// Compares <paramref name="a"/> and <paramref name="b"/> on the ids both contain. An id whose labels differ between
    /// the files is reported in <see cref="LabelConflicts"/> and left out (it is not the same item).
    /// </summary>
    public static RunComparison Compute(string nameA, IReadOnlyList<EvaluationItem> a, string nameB, IReadOnlyList<EvaluationItem> b,
        EvaluationOptions options, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var byIdB = b.ToDictionary(i => i.Id, StringComparer.Ordinal);
        var idsA = a.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        var commonA = new List<EvaluationItem>();
        var commonB = new List<EvaluationItem>();
        var conflicts = new List<string>();
        foreach (var itemA in a)
        {
            if (!byIdB.TryGetValue(itemA.Id, out var itemB))
            {
                continue;
            }
            if (itemA.IsUnsafe != itemB.IsUnsafe)
            {
                conflicts.Add(itemA.Id);
                continue;
            }
            commonA.Add(itemA);
            commonB.Add(itemB);
        }
        double t = options.Threshold;
        var safeToUnsafe = new List<string>();
        var unsafeToSafe = new List<string>();
        long onlyA = 0, onlyB = 0;
        double sumDiff = 0, maxDiff = 0;
        for (int i = 0; i < commonA.Count; i++)
        {
            bool da = commonA[i].UnsafeProbability >= t, db = commonB[i].UnsafeProbability >= t;
            if (!da && db) safeToUnsafe.Add(commonA[i].Id);
            if (da && !db) unsafeToSafe.Add(commonA[i].Id);
            bool correctA = da == commonA[i].IsUnsafe, correctB = db == commonB[i].IsUnsafe;
            if (correctA && !correctB) onlyA++;
            if (!correctA && correctB) onlyB++;
            double diff = Math.Abs(commonA[i].UnsafeProbability - commonB[i].UnsafeProbability);
            sumDiff += diff;
            maxDiff = Math.Max(maxDiff, diff);
        }
        int n = commonA.Count;
        return new RunComparison(nameA, nameB, n,
            a.Where(i => !byIdB.ContainsKey(i.Id)).Select(i => i.Id).ToArray(),
            b.Where(i => !idsA.Contains(i.Id)).Select(i => i.Id).ToArray(),
            t,
            n == 0 ? null : (double)(n - safeToUnsafe.Count - unsafeToSafe.Count) / n,
            n == 0 ? null : sumDiff / n,
            n == 0 ? null : maxDiff,
            safeToUnsafe, unsafeToSafe, conflicts,
            McNemarTest.Compute(onlyA, onlyB),
            TaskMetrics.Compute(commonA, options, cancellationToken),
            TaskMetrics.Compute(commonB, options, cancellationToken));
    }

    /// <summary>The headline metrics of A and B side by side (with their change B − A), in report order.</summary>
    public IEnumerable<MetricPair> MetricPairs()
    {
        yield return new("precision", MetricsA.AtThreshold.Precision, MetricsB.AtThreshold.Precision);
        yield return new("recall", MetricsA.AtThreshold.Recall, MetricsB.AtThreshold.Recall);
        yield return new("f1", MetricsA.AtThreshold.F1, MetricsB.AtThreshold.F1);
        yield return new("fpr", MetricsA.AtThreshold.FalsePositiveRate, MetricsB.AtThreshold.FalsePositiveRate);
        yield return new("accuracy", MetricsA.AtThreshold.Accuracy, MetricsB.AtThreshold.Accuracy);
        yield return new("auprc", MetricsA.Auprc, MetricsB.Auprc);
        yield return new("roc_auc", MetricsA.RocAuc, MetricsB.RocAuc);
        yield return new("ece", MetricsA.Calibration.ExpectedCalibrationError, MetricsB.Calibration.ExpectedCalibrationError);
    }
}
