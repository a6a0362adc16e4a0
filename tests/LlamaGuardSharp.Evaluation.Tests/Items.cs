using LlamaGuardSharp.Evaluation;

namespace LlamaGuardSharp.Evaluation.Tests;

/// <summary>Builds evaluation items for the tests.</summary>
internal static class Items
{
    /// <summary>Items with the given labels (1 = unsafe) and scores, ids "i0", "i1", ….</summary>
    public static EvaluationItem[] From(int[] labels, double[] scores) =>
        labels.Select((label, i) => new EvaluationItem($"i{i}", label == 1, scores[i])).ToArray();
}
