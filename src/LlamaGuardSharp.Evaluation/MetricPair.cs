namespace LlamaGuardSharp.Evaluation;

/// <summary>One headline metric of a <see cref="RunComparison"/>: its value for A and for B (null where undefined).</summary>
/// <param name="Name">The metric's name as in <c>compare.json</c>'s <c>deltas</c> (e.g. <c>precision</c>, <c>roc_auc</c>).</param>
/// <param name="A">The metric for the first results file.</param>
/// <param name="B">The metric for the second results file.</param>
public readonly record struct MetricPair(string Name, double? A, double? B)
{
    /// <summary>B − A; null when either side is undefined.</summary>
    public double? Delta => A is { } a && B is { } b ? b - a : null;
}
