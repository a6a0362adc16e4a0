namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// One evaluated item: a line of <c>results.jsonl</c>. Written by <c>llamaguard eval</c>; another engine's predictions
/// need only <see cref="Id"/>, <see cref="IsUnsafe"/> (<c>label</c>) and <see cref="UnsafeProbability"/> (<c>p_unsafe</c>).
/// Immutable.
/// </summary>
/// <param name="Id">The item's id, unique within a results file.</param>
/// <param name="IsUnsafe">The true label (<c>"label": "unsafe"</c>).</param>
/// <param name="UnsafeProbability">The model's p(unsafe), in [0, 1].</param>
/// <param name="Verdict">The greedy verdict: <c>safe</c>, <c>unsafe</c> or <c>unparseable</c>; null when the source has none.</param>
/// <param name="PredictedCategories">The categories the verdict names (empty when safe); null when the source has none.</param>
/// <param name="Categories">The true categories; null when not given (then an unsafe item takes no part in per-category metrics).</param>
/// <param name="CategoryProbabilities">The model's category probabilities by code; null when not computed.</param>
/// <param name="Task"><c>prompt</c> or <c>response</c>; null when the source does not say.</param>
/// <param name="Seconds">Time the classification took; null when unknown.</param>
public sealed record EvaluationItem(
    string Id,
    bool IsUnsafe,
    double UnsafeProbability,
    string? Verdict = null,
    IReadOnlyList<string>? PredictedCategories = null,
    IReadOnlyList<string>? Categories = null,
    IReadOnlyDictionary<string, double>? CategoryProbabilities = null,
    string? Task = null,
    double? Seconds = null)
{
    /// <summary>The verdict's decision, failing closed: an unparseable verdict counts as unsafe. Null without a verdict.</summary>
    public bool? VerdictSaysUnsafe => Verdict switch
    {
        null => null,
        EvaluationVerdicts.Safe => false,
        _ => true,
    };

    /// <summary>
    /// The true category set when it is known: the given <see cref="Categories"/>, or the empty set for a safe item
    /// without them. Null for an unsafe item without categories.
    /// </summary>
    public IReadOnlyList<string>? KnownTrueCategories => Categories ?? (IsUnsafe ? null : []);
}

/// <summary>The verdict and task spellings of a results file.</summary>
public static class EvaluationVerdicts
{
    /// <summary>The verdict is safe.</summary>
    public const string Safe = "safe";

    /// <summary>The verdict is unsafe (with categories).</summary>
    public const string Unsafe = "unsafe";

    /// <summary>The model's output did not follow the Llama Guard grammar; counted as unsafe (fail closed).</summary>
    public const string Unparseable = "unparseable";

    /// <summary>Prompt classification (the last turn is the user's).</summary>
    public const string PromptTask = "prompt";

    /// <summary>Response classification (the last turn is the agent's).</summary>
    public const string ResponseTask = "response";
}
