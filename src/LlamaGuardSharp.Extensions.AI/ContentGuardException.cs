using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// Thrown by the guard middleware (with <see cref="GuardViolationAction.Throw"/>) when the input or the answer is judged
/// unsafe, or unparseable with <see cref="LlamaGuardChatOptions.TreatUnparseableAsUnsafe"/> on.
/// </summary>
public sealed class ContentGuardException : Exception
{
    /// <summary>Creates the exception for a blocked <paramref name="side"/>.</summary>
    public ContentGuardException(GuardedSide side, SafetyVerdict verdict)
        : base(Describe(side, verdict))
    {
        ArgumentNullException.ThrowIfNull(verdict);
        Side = side;
        Verdict = verdict;
    }

    /// <summary>Which side was blocked: the user's input or the assistant's answer.</summary>
    public GuardedSide Side { get; }

    /// <summary>The guard's verdict for that side.</summary>
    public SafetyVerdict Verdict { get; }

    private static string Describe(GuardedSide side, SafetyVerdict verdict)
    {
        string what = side == GuardedSide.Input ? "The user's input" : "The assistant's answer";
        string why = verdict.Kind switch
        {
            Safety.VerdictKind.Unsafe when verdict.ViolatedCategories.Count > 0 =>
                $"was judged unsafe ({string.Join(", ", verdict.ViolatedCategories.Select(c => $"{c.Code} {c.Name}"))})",
            Safety.VerdictKind.Unsafe => "was judged unsafe",
            Safety.VerdictKind.Unparseable => "got an unparseable verdict from the guard model, treated as unsafe (fail closed)",
            _ => "was judged safe by the model but reached the unsafe threshold",
        };
        return $"{what} {why}; p(unsafe) = {verdict.UnsafeProbability:0.###}.";
    }
}
