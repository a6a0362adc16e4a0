namespace LlamaGuardSharp.Safety;

/// <summary>The parsed answer of Llama Guard.</summary>
/// <param name="Kind">Safe, Unsafe or Unparseable.</param>
/// <param name="Categories">For Unsafe: the violated categories found in the policy, in the order the model listed
/// them, without duplicates. Empty otherwise.</param>
/// <param name="UnknownCodes">For Unsafe: well-formed codes the policy does not contain (e.g. an excluded category),
/// as the model wrote them, in order, without duplicates. Reported rather than dropped so callers decide.</param>
/// <param name="RawText">The generated text exactly as given to the parser.</param>
/// <param name="Problem">For Unparseable: why, in words. Null otherwise.</param>
public sealed record ParsedVerdict(
    VerdictKind Kind,
    IReadOnlyList<HazardCategory> Categories,
    IReadOnlyList<string> UnknownCodes,
    string RawText,
    string? Problem = null)
{
    /// <summary>Kind is Safe.</summary>
    public bool IsSafe => Kind == VerdictKind.Safe;

    /// <summary>Kind is Unsafe: "unsafe" and a category line with at least one code (see <see cref="VerdictParser"/>).</summary>
    public bool IsUnsafe => Kind == VerdictKind.Unsafe;

    /// <summary>Every code of the category line in order: the resolved categories' canonical codes and the unknown codes.</summary>
    public IReadOnlyList<string> Codes { get; init; } = [];
}
