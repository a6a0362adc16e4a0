namespace LlamaGuardSharp.Safety;

/// <summary>What the model's answer says.</summary>
public enum VerdictKind
{
    /// <summary>The answer is exactly "safe".</summary>
    Safe,

    /// <summary>The answer is "unsafe" followed by a line of category codes.</summary>
    Unsafe,

    /// <summary>The answer does not follow the Llama Guard output grammar; see <see cref="ParsedVerdict.Problem"/>.</summary>
    Unparseable,
}
