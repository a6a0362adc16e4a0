using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Safety;

/// <summary>
/// The ordered table of unsafe-content categories shown to the model and used to resolve the codes it answers with.
/// Immutable; every "change" returns a new policy.
/// </summary>
/// <remarks>
/// Rendering follows the HF chat template exactly: categories are listed in table order as <c>Code: Description</c>;
/// excluding categories removes their lines and does NOT renumber the remaining codes (the template's
/// <c>excluded_category_keys</c> just skips keys); a custom table replaces the whole default table and its codes are
/// rendered as given.
/// </remarks>
public sealed class SafetyPolicy
{
    private readonly HazardCategory[] _categories;
    private readonly FrozenDictionary<string, HazardCategory> _byCode;

    private SafetyPolicy(HazardCategory[] categories)
    {
        if (categories.Length == 0)
        {
            throw new SafetyPolicyException(SafetyPolicyProblem.EmptyPolicy,
                "A safety policy needs at least one category (all categories were excluded or none was given).");
        }

        var byCode = new Dictionary<string, HazardCategory>(StringComparer.OrdinalIgnoreCase);
        foreach (var category in categories)
        {
            ArgumentNullException.ThrowIfNull(category);
            if (!byCode.TryAdd(category.Code, category))
            {
                throw new SafetyPolicyException(SafetyPolicyProblem.DuplicateCode,
                    $"Category code '{category.Code}' appears more than once (codes compare case-insensitively).");
            }
        }

        _categories = categories;
        _byCode = byCode.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The 13 categories S1–S13 of Llama Guard 3 Vision, byte-exact as in its chat template.</summary>
    public static SafetyPolicy Default { get; } = new(
    [
        new("S1", "Violent Crimes"),
        new("S2", "Non-Violent Crimes"),
        new("S3", "Sex Crimes"),
        new("S4", "Child Exploitation"),
        new("S5", "Defamation"),
        new("S6", "Specialized Advice"),
        new("S7", "Privacy"),
        new("S8", "Intellectual Property"),
        new("S9", "Indiscriminate Weapons"),
        new("S10", "Hate"),
        new("S11", "Self-Harm"),
        new("S12", "Sexual Content"),
        new("S13", "Elections"),
    ]);

    /// <summary>Categories in prompt order.</summary>
    public IReadOnlyList<HazardCategory> Categories => _categories;

    /// <summary>A policy made of exactly these categories, in this order (codes as given, never renumbered).</summary>
    /// <exception cref="SafetyPolicyException">duplicate codes or no category.</exception>
    public static SafetyPolicy FromCategories(IEnumerable<HazardCategory> categories)
    {
        ArgumentNullException.ThrowIfNull(categories);
        return new SafetyPolicy(categories.ToArray());
    }

    /// <summary>Parses a custom category table; the format is documented in docs/safety-policy.md.</summary>
    /// <exception cref="SafetyPolicyException">malformed JSON, invalid or duplicate categories, no category.</exception>
    public static SafetyPolicy FromJson(string json) => FromCategories(SafetyPolicyJson.ParseCategories(json));

    /// <summary>Reads and parses a custom category table file (see <see cref="FromJson"/>) of at most <see cref="BoundedFile.MaxPolicyBytes"/>.</summary>
    /// <exception cref="InputFileException">not a regular file, too large, unreadable or not UTF-8.</exception>
    public static async Task<SafetyPolicy> LoadAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json = await BoundedFile.ReadAllTextAsync(path, BoundedFile.MaxPolicyBytes, "categories file", cancellationToken).ConfigureAwait(false);
        try
        {
            return FromJson(json);
        }
        catch (SafetyPolicyException e)
        {
            throw new SafetyPolicyException(e.Problem, $"{path}: {e.Message}", e);
        }
    }

    /// <summary>This policy without the given categories (the HF template's <c>excluded_category_keys</c>).</summary>
    /// <exception cref="SafetyPolicyException">a code is not in this policy, or nothing would remain.</exception>
    public SafetyPolicy Exclude(params string[] codes) => Exclude((IEnumerable<string>)codes);

    /// <inheritdoc cref="Exclude(string[])"/>
    public SafetyPolicy Exclude(IEnumerable<string> codes)
    {
        ArgumentNullException.ThrowIfNull(codes);
        var excluded = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string code in codes)
        {
            if (code is null || !_byCode.ContainsKey(code))
            {
                throw new SafetyPolicyException(SafetyPolicyProblem.UnknownCode,
                    $"Cannot exclude unknown category '{code}'; this policy has {string.Join(", ", _categories.Select(c => c.Code))}.");
            }
            excluded.Add(code);
        }
        if (excluded.Count == 0)
        {
            return this;
        }
        return new SafetyPolicy(_categories.Where(c => !excluded.Contains(c.Code)).ToArray());
    }

    /// <summary>Looks a code up (case-insensitively).</summary>
    public bool TryGetCategory(string code, [NotNullWhen(true)] out HazardCategory? category)
    {
        ArgumentNullException.ThrowIfNull(code);
        return _byCode.TryGetValue(code, out category);
    }

    /// <summary>True when the policy has a category with this code (case-insensitively).</summary>
    public bool Contains(string code) => TryGetCategory(code, out _);

    public override string ToString() => string.Join(", ", _categories.Select(c => c.Code));
}
