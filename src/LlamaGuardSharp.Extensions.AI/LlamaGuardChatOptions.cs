using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// How <see cref="LlamaGuardChatClient"/> guards a chat: which sides it checks, against which policy, how it decides
/// and what it does on a violation. Set through <c>UseLlamaGuard(configure: o => …)</c>.
/// </summary>
public sealed class LlamaGuardChatOptions
{
    /// <summary>The refusal text used when <see cref="RefusalMessage"/> is not set.</summary>
    public const string DefaultRefusalMessage = "I can't help with that: the request or the answer was blocked by the content-safety guard.";

    /// <summary>Classify the user's input (the conversation up to its last user message) before calling the inner client. Default on.</summary>
    public bool CheckInput { get; set; } = true;

    /// <summary>Classify the assistant's answer (response classification, the conversation as context) before returning it. Default on.</summary>
    public bool CheckOutput { get; set; } = true;

    /// <summary>The hazard categories to judge against; null: Llama Guard's default S1–S13.</summary>
    public SafetyPolicy? Policy { get; set; }

    /// <summary>Throw a <see cref="ContentGuardException"/> (default) or answer with a refusal.</summary>
    public GuardViolationAction OnViolation { get; set; } = GuardViolationAction.Throw;

    /// <summary>The assistant text of a refusal (<see cref="GuardViolationAction.Refuse"/>).</summary>
    public string RefusalMessage { get; set; } = DefaultRefusalMessage;

    /// <summary>
    /// Whether a verdict whose text does not follow the Llama Guard grammar blocks like an unsafe one. Default true: the
    /// guard fails closed, an answer it cannot read is not taken for "safe".
    /// </summary>
    public bool TreatUnparseableAsUnsafe { get; set; } = true;

    /// <summary>
    /// When set (0–1), a side is unsafe when p(unsafe) ≥ this threshold (Meta's scoring method) instead of when the
    /// generated text says "unsafe"; an unparseable text still blocks when <see cref="TreatUnparseableAsUnsafe"/> is on.
    /// Null (default): the generated text decides.
    /// </summary>
    public double? UnsafeThreshold { get; set; }

    /// <summary>How a streamed answer is checked: buffered until it passed (default) or live with a check at the end.</summary>
    public GuardStreamingMode StreamingMode { get; set; } = GuardStreamingMode.BufferUntilChecked;

    /// <summary>
    /// Hosts (exact, case-insensitive) from which images given as <c>UriContent</c> are downloaded and checked. An image
    /// URI from any other host makes the request fail with <see cref="UncheckableContentException"/> before the inner client
    /// is called. Default empty: only images given as bytes (<c>DataContent</c>) are accepted.
    /// </summary>
    public ISet<string> AllowedImageHosts { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The largest image downloaded from an allowed host, in bytes (default 20 MiB).</summary>
    public long MaxImageBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>
    /// Whether <paramref name="verdict"/> blocks under these options: Unsafe (or p(unsafe) ≥ <see cref="UnsafeThreshold"/>
    /// when set), or Unparseable with <see cref="TreatUnparseableAsUnsafe"/>.
    /// </summary>
    public bool IsViolation(SafetyVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        if (verdict.Kind == VerdictKind.Unparseable && TreatUnparseableAsUnsafe)
        {
            return true;
        }
        return UnsafeThreshold is { } threshold ? verdict.UnsafeProbability >= threshold : verdict.Kind == VerdictKind.Unsafe;
    }

    /// <summary>Why <paramref name="verdict"/> blocks under these options, as the end of a sentence ("was judged unsafe (…)").</summary>
    internal string DescribeViolation(SafetyVerdict verdict)
    {
        if (verdict.Kind == VerdictKind.Unparseable && TreatUnparseableAsUnsafe)
        {
            return $"got a verdict the guard model did not write in Llama Guard's grammar ('{verdict.RawOutput.Trim()}'), treated as unsafe (fail closed)";
        }
        if (UnsafeThreshold is { } threshold)
        {
            return $"reached the unsafe threshold: p(unsafe) = {verdict.UnsafeProbability:G4} ≥ {threshold:G4}{Categories(verdict)}";
        }
        return DescribeKind(verdict);
    }

    /// <summary>The verdict's kind as the end of a sentence, without an options rule.</summary>
    internal static string DescribeKind(SafetyVerdict verdict) => verdict.Kind switch
    {
        VerdictKind.Unsafe => $"was judged unsafe{Categories(verdict)}, p(unsafe) = {verdict.UnsafeProbability:G4}",
        VerdictKind.Unparseable => $"got a verdict the guard model did not write in Llama Guard's grammar ('{verdict.RawOutput.Trim()}')",
        _ => $"was judged safe, p(unsafe) = {verdict.UnsafeProbability:G4}",
    };

    private static string Categories(SafetyVerdict verdict) => verdict.ViolatedCategories.Count == 0 ? ""
        : $" ({string.Join(", ", verdict.ViolatedCategories.Select(c => $"{c.Code} {c.Name}"))})";

    /// <summary>Throws when a setting is out of range (called when the middleware is built).</summary>
    internal void Validate()
    {
        if (UnsafeThreshold is { } threshold && !(threshold >= 0 && threshold <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(UnsafeThreshold), threshold, "UnsafeThreshold must be between 0 and 1.");
        }
        if (!Enum.IsDefined(OnViolation))
        {
            throw new ArgumentOutOfRangeException(nameof(OnViolation), OnViolation, "OnViolation must be Throw or Refuse.");
        }
        if (!Enum.IsDefined(StreamingMode))
        {
            throw new ArgumentOutOfRangeException(nameof(StreamingMode), StreamingMode, "StreamingMode must be BufferUntilChecked or CheckAtEnd.");
        }
        if (string.IsNullOrWhiteSpace(RefusalMessage))
        {
            throw new ArgumentException("RefusalMessage must not be empty.", nameof(RefusalMessage));
        }
        if (MaxImageBytes <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxImageBytes), MaxImageBytes, "MaxImageBytes must be positive.");
        }
    }
}
