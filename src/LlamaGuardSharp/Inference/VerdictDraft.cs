using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// The draft tokens a classification runs with its prompt: what the model is expected to write first (<see cref="Lead"/>:
/// "\n\n" in the HF layout, nothing in Meta's), then from there both verdicts — <c>safe</c> (whose next token, the end
/// of the answer, then needs no decode step) and, with category probabilities wanted, <c>unsafe \n S</c> as a sibling
/// branch (the tokens the category scoring forces at the answer position; an unsafe verdict goes on from its
/// <c>S</c>). Each draft token costs a prefill row instead of a decode step, which streams all the text weights for one
/// token; greedy decoding follows the tree while its choices are in it, so the output is the plain greedy one.
/// </summary>
/// <param name="Tree">The tokens and their parents.</param>
/// <param name="Lead">The chain before the verdict.</param>
/// <param name="LastForced">Index in <see cref="Tree"/> of the forced branch's last token (its <c>S</c>), −1 without it.</param>
internal sealed record VerdictDraft(DraftTree Tree, IReadOnlyList<int> Lead, int LastForced)
{
    /// <summary>The draft of a classification in <paramref name="layout"/>, with the forced category branch when
    /// <paramref name="withCategories"/>.</summary>
    public static VerdictDraft For(VerdictTokens tokens, Prompting.PromptLayout layout, bool withCategories)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        int[] lead = layout == Prompting.PromptLayout.HuggingFace ? [tokens.DoubleNewline] : [];
        return Build(lead, withCategories ? [.. tokens.CategoryPrefix] : [], tokens.Safe);
    }

    /// <summary>
    /// <paramref name="lead"/> as a chain, then from its end <paramref name="forced"/> (when not empty) and, as its sibling,
    /// <paramref name="safe"/>.
    /// </summary>
    public static VerdictDraft Build(ReadOnlySpan<int> lead, ReadOnlySpan<int> forced, int safe)
    {
        var tokens = new List<int>();
        var parents = new List<int>();
        foreach (int token in lead)
        {
            parents.Add(tokens.Count - 1);
            tokens.Add(token);
        }
        int verdictParent = tokens.Count - 1;
        int lastForced = -1;
        foreach (int token in forced)
        {
            parents.Add(lastForced < 0 ? verdictParent : lastForced);
            lastForced = tokens.Count;
            tokens.Add(token);
        }
        parents.Add(verdictParent);
        tokens.Add(safe);
        return new VerdictDraft(new DraftTree(tokens, parents), lead.ToArray(), lastForced);
    }

    /// <summary>
    /// The logits after the forced <c>unsafe \n S</c> at the answer position, when the prefill already computed them: the
    /// model's own tokens before its verdict were exactly <see cref="Lead"/>, so the forced branch sat right at the
    /// answer position. Null otherwise (or without the branch).
    /// </summary>
    public float[]? ForcedLogits(float[][] draftLogits, DecodedAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(draftLogits);
        ArgumentNullException.ThrowIfNull(answer);
        return LastForced >= 0 && answer.AnswerIndex == Lead.Count && answer.Output.Take(Lead.Count).SequenceEqual(Lead)
            ? draftLogits[LastForced + 1]
            : null;
    }
}
