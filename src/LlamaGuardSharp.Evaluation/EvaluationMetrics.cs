namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// The metrics of a results file: over all items, and per task (<c>prompt</c>, <c>response</c>) when more than one
/// task occurs — the model card reports prompt and response classification separately. Immutable.
/// </summary>
public sealed record EvaluationMetrics(TaskMetrics All, IReadOnlyDictionary<string, TaskMetrics> ByTask, EvaluationOptions Options)
{
    /// <summary>Computes the metrics of <paramref name="items"/>.</summary>
    public static EvaluationMetrics Compute(IReadOnlyList<EvaluationItem> items, EvaluationOptions options, CancellationToken cancellationToken = default)
    {
        options.Validate();
        var all = TaskMetrics.Compute(items, options, cancellationToken);
        var tasks = items.GroupBy(i => i.Task).ToArray();
        var byTask = new SortedDictionary<string, TaskMetrics>(StringComparer.Ordinal);
        if (tasks.Length > 1)
        {
            foreach (var group in tasks)
            {
                byTask[group.Key ?? "unknown"] = TaskMetrics.Compute(group.ToArray(), options, cancellationToken);
            }
        }
        return new EvaluationMetrics(all, byTask, options);
    }
}
