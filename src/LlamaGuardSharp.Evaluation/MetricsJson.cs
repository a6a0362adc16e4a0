using System.Text;
using System.Text.Json;

namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// <c>metrics.json</c>: the metrics of all items at the top level and per task under <c>by_task</c>. An undefined ratio
/// (0/0) is written as <c>null</c>, never 0. Field names are documented in docs/evaluation.md.
/// </summary>
public static class MetricsJson
{
    private static readonly JsonWriterOptions Indented = new() { Indented = true };

    /// <summary>The metrics as indented JSON.</summary>
    public static string Serialize(EvaluationMetrics metrics)
    {
        return Write(json =>
        {
            json.WriteStartObject();
            WriteTaskBody(json, metrics.All);
            json.WriteStartObject("by_task");
            foreach (var (task, taskMetrics) in metrics.ByTask)
            {
                json.WriteStartObject(task);
                WriteTaskBody(json, taskMetrics);
                json.WriteEndObject();
            }
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    /// <summary>A comparison (<c>eval compare</c>) as indented JSON.</summary>
    public static string Serialize(RunComparison comparison)
    {
        return Write(json =>
        {
            json.WriteStartObject();
            json.WriteString("a", comparison.NameA);
            json.WriteString("b", comparison.NameB);
            json.WriteNumber("common", comparison.Common);
            json.WriteNumber("only_in_a", comparison.OnlyInA.Count);
            json.WriteNumber("only_in_b", comparison.OnlyInB.Count);
            json.WriteNumber("threshold", comparison.Threshold);
            Number(json, "agreement", comparison.Agreement);
            Number(json, "p_unsafe_mean_abs_difference", comparison.MeanAbsoluteProbabilityDifference);
            Number(json, "p_unsafe_max_abs_difference", comparison.MaxAbsoluteProbabilityDifference);
            Ids(json, "safe_to_unsafe", comparison.SafeToUnsafe);
            Ids(json, "unsafe_to_safe", comparison.UnsafeToSafe);
            Ids(json, "label_conflicts", comparison.LabelConflicts);
            json.WriteStartObject("mcnemar");
            json.WriteNumber("only_a_correct", comparison.McNemar.OnlyACorrect);
            json.WriteNumber("only_b_correct", comparison.McNemar.OnlyBCorrect);
            json.WriteString("method", comparison.McNemar.Method);
            Number(json, "statistic", comparison.McNemar.Statistic);
            json.WriteNumber("p_value", comparison.McNemar.PValue);
            json.WriteEndObject();
            json.WriteStartObject("deltas");
            foreach (var pair in comparison.MetricPairs())
            {
                Number(json, pair.Name, pair.Delta);
            }
            json.WriteEndObject();
            json.WriteStartObject("metrics_a");
            WriteTaskBody(json, comparison.MetricsA);
            json.WriteEndObject();
            json.WriteStartObject("metrics_b");
            WriteTaskBody(json, comparison.MetricsB);
            json.WriteEndObject();
            json.WriteEndObject();
        });
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Indented))
        {
            body(json);
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteTaskBody(Utf8JsonWriter json, TaskMetrics m)
    {
        json.WriteNumber("count", m.Count);
        json.WriteNumber("positives", m.Positives);
        json.WriteNumber("negatives", m.Count - m.Positives);
        json.WriteNumber("threshold", m.Threshold);
        Matrix(json, "at_threshold", m.AtThreshold);
        if (m.Verdict is { } verdict) Matrix(json, "verdict", verdict); else json.WriteNull("verdict");
        json.WriteNumber("unparseable", m.Unparseable);
        Number(json, "auprc", m.Auprc);
        Number(json, "roc_auc", m.RocAuc);
        Point(json, "best_f1", m.Sweep.BestF1, null);
        if (m.Sweep.TargetFalsePositiveRate is { } fpr) Point(json, "at_target_fpr", m.Sweep.AtTargetFalsePositiveRate, fpr);
        if (m.Sweep.TargetRecall is { } recall) Point(json, "at_target_recall", m.Sweep.AtTargetRecall, recall);
        if (m.Intervals is { } ci)
        {
            json.WriteStartObject("confidence_intervals");
            json.WriteNumber("level", 0.95);
            json.WriteNumber("resamples", ci.Resamples);
            json.WriteNumber("seed", ci.Seed);
            Interval(json, "precision", ci.Precision);
            Interval(json, "recall", ci.Recall);
            Interval(json, "f1", ci.F1);
            Interval(json, "fpr", ci.FalsePositiveRate);
            Interval(json, "accuracy", ci.Accuracy);
            Interval(json, "auprc", ci.Auprc);
            Interval(json, "roc_auc", ci.RocAuc);
            json.WriteEndObject();
        }
        else
        {
            json.WriteNull("confidence_intervals");
        }
        json.WriteStartObject("calibration");
        Number(json, "ece", m.Calibration.ExpectedCalibrationError);
        Number(json, "brier", m.Calibration.BrierScore);
        json.WriteStartArray("bins");
        foreach (var bin in m.Calibration.Bins)
        {
            json.WriteStartObject();
            json.WriteNumber("lower", bin.Lower);
            json.WriteNumber("upper", bin.Upper);
            json.WriteNumber("count", bin.Count);
            Number(json, "mean_p_unsafe", bin.MeanProbability);
            Number(json, "fraction_unsafe", bin.FractionUnsafe);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteNumber("category_items", m.CategoryItems);
        json.WriteStartObject("per_category");
        foreach (var category in m.PerCategory)
        {
            json.WriteStartObject(category.Code);
            Number(json, "precision", category.Precision);
            Number(json, "recall", category.Recall);
            Number(json, "f1", category.F1);
            json.WriteNumber("support", category.Support);
            json.WriteNumber("predicted", category.Predicted);
            json.WriteNumber("tp", category.TruePositives);
            json.WriteNumber("fp", category.FalsePositives);
            json.WriteNumber("fn", category.FalseNegatives);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    private static void Matrix(Utf8JsonWriter json, string name, ConfusionMatrix m)
    {
        json.WriteStartObject(name);
        MatrixBody(json, m);
        json.WriteEndObject();
    }

    private static void MatrixBody(Utf8JsonWriter json, ConfusionMatrix m)
    {
        json.WriteNumber("tp", m.TruePositives);
        json.WriteNumber("fp", m.FalsePositives);
        json.WriteNumber("tn", m.TrueNegatives);
        json.WriteNumber("fn", m.FalseNegatives);
        Number(json, "precision", m.Precision);
        Number(json, "recall", m.Recall);
        Number(json, "f1", m.F1);
        Number(json, "fpr", m.FalsePositiveRate);
        Number(json, "accuracy", m.Accuracy);
    }

    private static void Point(Utf8JsonWriter json, string name, ThresholdPoint? point, double? target)
    {
        if (point is null && target is null)
        {
            json.WriteNull(name);
            return;
        }
        json.WriteStartObject(name);
        if (target is { } t) json.WriteNumber("target", t);
        if (point is null)
        {
            json.WriteNull("threshold"); // the target cannot be reached (e.g. a recall target without positives)
        }
        else
        {
            json.WriteNumber("threshold", point.Threshold);
            MatrixBody(json, point.Matrix);
        }
        json.WriteEndObject();
    }

    private static void Interval(Utf8JsonWriter json, string name, ConfidenceInterval? interval)
    {
        if (interval is null)
        {
            json.WriteNull(name);
            return;
        }
        json.WriteStartObject(name);
        json.WriteNumber("lower", interval.Lower);
        json.WriteNumber("upper", interval.Upper);
        json.WriteNumber("samples", interval.Samples);
        json.WriteEndObject();
    }

    private static void Ids(Utf8JsonWriter json, string name, IReadOnlyList<string> ids)
    {
        json.WriteStartArray(name);
        foreach (var id in ids) json.WriteStringValue(id);
        json.WriteEndArray();
    }

    internal static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } v && double.IsFinite(v)) json.WriteNumber(name, v); else json.WriteNull(name);
    }
}
