using System.Text.RegularExpressions;

namespace LlamaGuardSharp.Safety;

/// <summary>
/// One unsafe-content category of a Llama Guard policy, e.g. <c>S1</c> "Violent Crimes".
/// </summary>
/// <remarks>
/// The prompt shows each category as one line <c>Code + ": " + Description</c> (the HF chat template's
/// <c>key + ": " + categories[key]</c>). For the built-in table the description is the name followed by a period
/// ("Violent Crimes."), exactly the strings the model was trained with. <see cref="Name"/> is the short label used in
/// reports; only <see cref="Code"/> and <see cref="Description"/> reach the prompt.
/// </remarks>
public sealed partial record HazardCategory
{
    /// <summary>Longest accepted code; real codes are 2–3 characters.</summary>
    public const int MaxCodeLength = 32;

    /// <param name="code">Short code the model answers with, e.g. <c>S1</c>: a letter followed by letters, digits, '_' or '-'.</param>
    /// <param name="name">Short human-readable name; non-blank, single line.</param>
    /// <param name="description">Text shown after <c>"S1: "</c> in the prompt, verbatim (may span lines). When null the
    /// description is <paramref name="name"/> followed by a period, the style of the built-in table.</param>
    /// <exception cref="SafetyPolicyException">with <see cref="SafetyPolicyProblem.InvalidCategory"/>.</exception>
    public HazardCategory(string code, string name, string? description = null)
    {
        if (code is null || !IsValidCode(code))
        {
            throw new SafetyPolicyException(SafetyPolicyProblem.InvalidCategory,
                $"Invalid category code '{code}': a code must be 1-{MaxCodeLength} characters, a letter followed by " +
                "letters, digits, '_' or '-' (e.g. S1). Commas, colons and spaces would break the prompt and the verdict line.");
        }
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new SafetyPolicyException(SafetyPolicyProblem.InvalidCategory, $"Category {code} has an empty name.");
        }
        if (name.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new SafetyPolicyException(SafetyPolicyProblem.InvalidCategory,
                $"Category {code} has a name with a line break; only the description may span lines.");
        }
        if (description is not null && string.IsNullOrWhiteSpace(description))
        {
            throw new SafetyPolicyException(SafetyPolicyProblem.InvalidCategory,
                $"Category {code} has an empty description (leave it out to use \"{name}.\").");
        }

        Code = code;
        Name = name;
        Description = description ?? name + ".";
    }

    /// <summary>Code the model answers with, e.g. <c>S1</c>.</summary>
    public string Code { get; }

    /// <summary>Short human-readable name, e.g. "Violent Crimes".</summary>
    public string Name { get; }

    /// <summary>Exact text rendered after <c>Code + ": "</c> in the prompt, e.g. "Violent Crimes.".</summary>
    public string Description { get; }

    /// <summary>True when <paramref name="code"/> has the shape of a category code (see the constructor).</summary>
    public static bool IsValidCode(string code) => code.Length <= MaxCodeLength && CodePattern().IsMatch(code);

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex CodePattern();
}
