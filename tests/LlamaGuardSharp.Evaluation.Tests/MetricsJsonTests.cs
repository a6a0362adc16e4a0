using System.Text.Json;
using LlamaGuardSharp.Evaluation;

namespace LlamaGuardSharp.Evaluation.Tests;

public class MetricsJsonTests
{
    [Fact]
    public void Metrics_json_has_the_required_fields_and_writes_undefined_ratios_as_null()
    {
        EvaluationItem[] items =
        [
            new("p1", true, 0.2, EvaluationVerdicts.Safe, [], ["S1"], Task: "prompt"),
            new("p2", false, 0.1, EvaluationVerdicts.Safe, [], [], Task: "prompt"),
            new("r1", true, 0.3, EvaluationVerdicts.Unparseable, [], ["S2"], Task: "response"),
        ];
        var json = JsonDocument.Parse(MetricsJson.Serialize(EvaluationMetrics.Compute(items, new EvaluationOptions { BootstrapResamples = 20 }))).RootElement;
        foreach (var scope in new[] { json, json.GetProperty("by_task").GetProperty("prompt"), json.GetProperty("by_task").GetProperty("response") })
        {
            foreach (var name in new[] { "count", "threshold", "at_threshold", "auprc", "roc_auc", "per_category" })
            {
                Assert.True(scope.TryGetProperty(name, out _), name);
            }
            foreach (var name in new[] { "tp", "fp", "tn", "fn", "precision", "recall", "f1", "fpr", "accuracy" })
            {
                Assert.True(scope.GetProperty("at_threshold").TryGetProperty(name, out _), name);
            }
        }
        // Nothing is flagged at 0.5: precision is 0/0.
        Assert.Equal(JsonValueKind.Null, json.GetProperty("at_threshold").GetProperty("precision").ValueKind);
        Assert.Equal(0.0, json.GetProperty("at_threshold").GetProperty("recall").GetDouble());
        // The response task has one positive and no negative: FPR and ROC AUC are undefined.
        var response = json.GetProperty("by_task").GetProperty("response");
        Assert.Equal(JsonValueKind.Null, response.GetProperty("at_threshold").GetProperty("fpr").ValueKind);
        Assert.Equal(JsonValueKind.Null, response.GetProperty("roc_auc").ValueKind);
        Assert.Equal(1, response.GetProperty("unparseable").GetInt32());
        // Per category: S1 never predicted (precision null), support 1.
        var s1 = json.GetProperty("per_category").GetProperty("S1");
        Assert.Equal(JsonValueKind.Null, s1.GetProperty("precision").ValueKind);
        Assert.Equal(0.0, s1.GetProperty("recall").GetDouble());
        Assert.Equal(1, s1.GetProperty("support").GetInt32());
        Assert.Equal(3, json.GetProperty("count").GetInt32());
    }
}
