using System.Collections.Frozen;
using System.Text;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Server;

/// <summary>
/// The table from Llama Guard's S-codes to OpenAI's moderation keys, and the rule that turns a verdict into OpenAI's
/// <c>categories</c> / <c>category_scores</c>. The default table and why each row is what it is: docs/service.md;
/// rows are overridable (<see cref="LlamaGuardServiceOptions.ModerationCategories"/>).
/// </summary>
/// <remarks>
/// Score of key k = p(unsafe) × Σ over the policy's codes c mapped to k of P(c | unsafe) (the verdict's category
/// probabilities, which sum to 1), so a score never exceeds p(unsafe) and the scores of one code's keys are equal.
/// Without category probabilities the score of k is p(unsafe) when the verdict names a code mapped to k, else 0.
/// A key is flagged when the result is flagged and a code mapped to it is named by the verdict (or, when the verdict
/// names none — a threshold-flagged safe verdict — is the most probable category).
/// </remarks>
internal sealed class ModerationCategoryMap
{
    /// <summary>OpenAI's 13 keys, always present in a result, in OpenAI's order.</summary>
    public static readonly IReadOnlyList<string> OpenAiKeys =
    [
        "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
        "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic",
    ];

    /// <summary>The default table (docs/service.md says why).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Default = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["S1"] = ["violence", "illicit", "illicit/violent"],
        ["S2"] = ["illicit"],
        ["S3"] = ["sexual", "illicit", "illicit/violent"],
        ["S4"] = ["sexual", "sexual/minors", "illicit"],
        ["S9"] = ["illicit", "illicit/violent"],
        ["S10"] = ["hate"],
        ["S11"] = ["self-harm", "self-harm/intent", "self-harm/instructions"],
        ["S12"] = ["sexual"],
    };

    private readonly FrozenDictionary<string, string[]> _table;

    /// <exception cref="ArgumentException">an override names a key that is not one of OpenAI's.</exception>
    public ModerationCategoryMap(IReadOnlyDictionary<string, string[]> overrides)
    {
        var table = new Dictionary<string, string[]>(Default, StringComparer.OrdinalIgnoreCase);
        foreach (var (code, keys) in overrides)
        {
            foreach (string key in keys ?? [])
            {
                if (!OpenAiKeys.Contains(key))
                {
                    throw new ArgumentException($"ModerationCategories:{code} maps to '{key}', which is not an OpenAI moderation key ({string.Join(", ", OpenAiKeys)}).");
                }
            }
            table[code] = keys ?? [];
        }
        _table = table.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The OpenAI keys of a code (empty: the code gets an extra key of its own).</summary>
    public IReadOnlyList<string> KeysOf(string code) => _table.TryGetValue(code, out var keys) ? keys : [];

    /// <summary>The extra key of a category no OpenAI key covers: its name in lower case, words joined by '-'
    /// (e.g. "specialized-advice"), or the code when the name gives nothing usable or collides with an OpenAI key.</summary>
    public static string ExtraKey(HazardCategory category)
    {
        var slug = new StringBuilder();
        foreach (char ch in category.Name.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(ch))
            {
                slug.Append(ch);
            }
            else if (slug.Length > 0 && slug[^1] != '-')
            {
                slug.Append('-');
            }
        }
        string key = slug.ToString().TrimEnd('-');
        return key.Length == 0 || OpenAiKeys.Contains(key) ? category.Code : key;
    }

    /// <summary>OpenAI's view of one verdict: every key with its flag and score, OpenAI's keys first.</summary>
    public IReadOnlyList<(string Key, bool Flagged, double Score)> Score(SafetyVerdict verdict, SafetyPolicy policy, bool flagged)
    {
        var probabilities = verdict.CategoryProbabilities.ToDictionary(p => p.Category.Code, p => p.Probability, StringComparer.OrdinalIgnoreCase);
        var named = new HashSet<string>(verdict.ViolatedCategories.Select(c => c.Code), StringComparer.OrdinalIgnoreCase);
        if (flagged && named.Count == 0 && verdict.CategoryProbabilities.Count > 0)
        {
            named.Add(verdict.CategoryProbabilities.MaxBy(p => p.Probability)!.Category.Code);
        }
        double pUnsafe = verdict.UnsafeProbability;
        var results = new List<(string, bool, double)>(OpenAiKeys.Count + policy.Categories.Count);
        foreach (string key in OpenAiKeys)
        {
            var codes = policy.Categories.Where(c => KeysOf(c.Code).Contains(key)).Select(c => c.Code).ToArray();
            results.Add((key, flagged && codes.Any(named.Contains), ScoreOf(codes)));
        }
        var used = new HashSet<string>(OpenAiKeys);
        foreach (var category in policy.Categories.Where(c => KeysOf(c.Code).Count == 0))
        {
            string key = ExtraKey(category);
            if (!used.Add(key))
            {
                key = category.Code;
                used.Add(key);
            }
            results.Add((key, flagged && named.Contains(category.Code), ScoreOf([category.Code])));
        }
        return results;

        double ScoreOf(string[] codes)
        {
            if (probabilities.Count == 0)
            {
                return codes.Any(named.Contains) ? pUnsafe : 0;
            }
            return Math.Min(1, pUnsafe * codes.Sum(c => probabilities.GetValueOrDefault(c)));
        }
    }
}
