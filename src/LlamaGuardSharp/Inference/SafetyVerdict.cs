using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Inference;

/// <summary>The probability attached to one hazard category (see <see cref="SafetyVerdict.CategoryProbabilities"/>).</summary>
public sealed record CategoryProbability(HazardCategory Category, double Probability);

/// <summary>Where the time of one classification went.</summary>
public sealed record ClassificationTimings(
    TimeSpan Load,
    TimeSpan Preprocess,
    TimeSpan Vision,
    TimeSpan Prefill,
    TimeSpan Decode,
    TimeSpan Total);

/// <summary>The result of <see cref="GuardModel.ClassifyAsync"/>. Immutable.</summary>
/// <param name="Kind">Safe, Unsafe, or Unparseable (the model's text did not follow the Llama Guard grammar; see <see cref="RawOutput"/>).</param>
/// <param name="Task">Prompt classification (last turn User) or response classification (last turn Agent).</param>
/// <param name="ViolatedCategories">For Unsafe: the categories the model listed that the policy contains, in order.</param>
/// <param name="UnknownCodes">For Unsafe: listed codes the policy does not contain (e.g. excluded ones); reported, not dropped.</param>
/// <param name="UnsafeProbability">
/// p(<c>unsafe</c>) at the answer position: softmax over the full vocabulary of the logits where the model emits its
/// verdict token (Meta's scoring method; with the HF layout that is after the <c>\n\n</c> token). Threshold 0.5 for a decision.
/// </param>
/// <param name="SafeProbability">p(<c>safe</c>) at the same position.</param>
/// <param name="CategoryProbabilities">
/// One entry per policy category whose code is <c>S</c> + a number: after forcing <c>unsafe\nS</c> at the answer position,
/// the softmax of the logits of the category-number tokens, renormalised over the policy's categories. It answers
/// "if the model calls this unsafe, which category does it name first?" and sums to 1; it is not a per-category
/// independent probability. Empty when disabled in <see cref="GuardModelOptions"/>.
/// </param>
/// <param name="RawOutput">The generated text, special tokens excluded.</param>
/// <param name="OutputTokenIds">The generated ids, stop token included.</param>
public sealed record SafetyVerdict(
    VerdictKind Kind,
    ClassificationTask Task,
    IReadOnlyList<HazardCategory> ViolatedCategories,
    IReadOnlyList<string> UnknownCodes,
    double UnsafeProbability,
    double SafeProbability,
    IReadOnlyList<CategoryProbability> CategoryProbabilities,
    string RawOutput,
    IReadOnlyList<int> OutputTokenIds,
    int PromptTokenCount,
    ClassificationTimings Timings)
{
    public bool IsSafe => Kind == VerdictKind.Safe;

    public bool IsUnsafe => Kind == VerdictKind.Unsafe;

    /// <summary>Number of generated tokens.</summary>
    public int GeneratedTokenCount => OutputTokenIds.Count;

    /// <summary>Leading prompt tokens whose keys/values came from the previous classification instead of a forward pass
    /// (<see cref="GuardModelOptions.PromptCacheTokens"/>); 0 when none did.</summary>
    public int ReusedPromptTokenCount { get; init; }
}
