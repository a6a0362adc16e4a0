using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// Thrown by the guard middleware (with <see cref="GuardViolationAction.Throw"/>) when the input or the answer is judged
/// unsafe, or unparseable with <see cref="LlamaGuardChatOptions.TreatUnparseableAsUnsafe"/> on.
/// </summary>
public sealed class ContentGuardException : Exception
{
    /// <summary>Creates the exception for a blocked <paramref name="side"/>.</summary>
    /// <param name="side">Which side was blocked.</param>
    /// <param name="verdict">The guard's verdict for it.</param>
    /// <param name="reason">Why the verdict blocks, e.g. "was judged unsafe (S1 Violent Crimes)"; null: from the verdict's kind.</param>
    public ContentGuardException(GuardedSide side, SafetyVerdict verdict, string? reason = null)
        : base($"{(side == GuardedSide.Input ? "The user's input" : "The assistant's answer")} {reason ?? LlamaGuardChatOptions.DescribeKind(verdict ?? throw new ArgumentNullException(nameof(verdict)))}.")
    {
        ArgumentNullException.ThrowIfNull(verdict);
        Side = side;
        Verdict = verdict;
    }

    /// <summary>Which side was blocked: the user's input or the assistant's answer.</summary>
    public GuardedSide Side { get; }

    /// <summary>The guard's verdict for that side.</summary>
    public SafetyVerdict Verdict { get; }
}
