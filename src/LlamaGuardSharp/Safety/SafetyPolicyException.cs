namespace LlamaGuardSharp.Safety;

/// <summary>What was wrong with a safety policy (lets callers and tests react to the exact problem, not to message text).</summary>
public enum SafetyPolicyProblem
{
    /// <summary>A code passed to <see cref="SafetyPolicy.Exclude(string[])"/> is not in the policy.</summary>
    UnknownCode,

    /// <summary>Two categories share a code (codes compare case-insensitively).</summary>
    DuplicateCode,

    /// <summary>The policy would contain no category at all (e.g. everything excluded).</summary>
    EmptyPolicy,

    /// <summary>The policy JSON is not valid JSON or does not have the documented shape.</summary>
    MalformedJson,

    /// <summary>A category has an invalid code, an empty name or an empty description.</summary>
    InvalidCategory,
}

/// <summary>A safety policy (category table) is invalid; <see cref="Problem"/> says how.</summary>
public sealed class SafetyPolicyException : Exception
{
    public SafetyPolicyException(SafetyPolicyProblem problem, string message, Exception? inner = null)
        : base(message, inner)
    {
        Problem = problem;
    }

    public SafetyPolicyProblem Problem { get; }
}
