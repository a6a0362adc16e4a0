using LlamaGuardSharp.Prompting;

namespace LlamaGuardSharp.Safety;

/// <summary>
/// Parses Llama Guard's generated text. Grammar, after removing surrounding whitespace and one trailing stop token
/// (<c>&lt;|eot_id|&gt;</c>, <c>&lt;|eom_id|&gt;</c> or <c>&lt;|end_of_text|&gt;</c>):
/// <code>
///   safe
///   unsafe LF code ( separator+ code )* separator*     separator = "," or whitespace
/// </code>
/// Decisions (documented in docs/prompting.md):
/// <list type="bullet">
/// <item>The leading "\n\n" the HF layout makes the model emit, and any other surrounding whitespace, is ignored.</item>
/// <item>"safe"/"unsafe" compare case-insensitively (the reference lower-cases the first line); trailing spaces on a line are ignored; CRLF is accepted.</item>
/// <item>The category line fails closed: llama-stack treats every "unsafe" answer with a category line as a violation,
/// so commas and whitespace both separate codes and empty parts are skipped — "S1,", "S1,,S2", "S1 S2" and "S1, S2"
/// all name their codes.</item>
/// <item>Codes resolve case-insensitively against the policy. A repeated code ("S1,S1") is reported once, in first-seen order.</item>
/// <item>Code-shaped words missing from the policy (an excluded code, "S14", "violence") go to
/// <see cref="ParsedVerdict.UnknownCodes"/>; the verdict stays Unsafe, as llama-stack reports them as violations.</item>
/// <item>Everything else is Unparseable, keeping the raw text: "unsafe" without a code line, a code line with no code
/// (","), a word that is not code-shaped ("violence!", see <see cref="HazardCategory.IsValidCode"/>), "safe" followed
/// by more lines, a third line, blank lines in between, text after the stop token, anything else.</item>
/// </list>
/// Parsing never throws for any string.
/// </summary>
public static class VerdictParser
{
    private static readonly string[] StopTokens =
        [PromptSpecialTokens.EndOfTurn, PromptSpecialTokens.EndOfMessage, PromptSpecialTokens.EndOfText];

    /// <summary>The verdict <paramref name="generatedText"/> states, its codes resolved against <paramref name="policy"/>.</summary>
    public static ParsedVerdict Parse(string generatedText, SafetyPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(generatedText);
        ArgumentNullException.ThrowIfNull(policy);

        string text = PythonText.Strip(generatedText);
        foreach (string stop in StopTokens)
        {
            if (text.EndsWith(stop, StringComparison.Ordinal))
            {
                text = PythonText.Strip(text[..^stop.Length]);
                break;
            }
        }

        if (text.Length == 0)
        {
            return Unparseable(generatedText, "the answer is empty");
        }

        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            lines[i] = PythonText.Strip(lines[i]);
        }

        string verdict = lines[0];
        if (verdict.Equals("safe", StringComparison.OrdinalIgnoreCase))
        {
            return lines.Length == 1
                ? new ParsedVerdict(VerdictKind.Safe, [], [], generatedText)
                : Unparseable(generatedText, "'safe' is followed by more lines");
        }
        if (!verdict.Equals("unsafe", StringComparison.OrdinalIgnoreCase))
        {
            return Unparseable(generatedText, "the first line is neither 'safe' nor 'unsafe'");
        }
        if (lines.Length == 1)
        {
            return Unparseable(generatedText, "'unsafe' without a line of category codes");
        }
        if (lines.Length > 2)
        {
            return Unparseable(generatedText, "extra lines after the category line");
        }

        var categories = new List<HazardCategory>();
        var unknown = new List<string>();
        var codes = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (string code in SplitCodes(lines[1]))
        {
            if (!HazardCategory.IsValidCode(code))
            {
                return Unparseable(generatedText, $"'{Shorten(code)}' is not a category code");
            }
            if (!seen.Add(code))
            {
                continue;
            }
            if (policy.TryGetCategory(code, out var category))
            {
                categories.Add(category);
                codes.Add(category.Code);
            }
            else
            {
                unknown.Add(code);
                codes.Add(code);
            }
        }
        if (codes.Count == 0)
        {
            return Unparseable(generatedText, "the category line has no code");
        }

        return new ParsedVerdict(VerdictKind.Unsafe, categories, unknown, generatedText) { Codes = codes };
    }

    /// <summary>The non-empty parts of a category line: commas and (Python) whitespace both separate codes.</summary>
    private static IEnumerable<string> SplitCodes(string line)
    {
        int start = 0;
        for (int i = 0; i <= line.Length; i++)
        {
            if (i == line.Length || line[i] == ',' || PythonText.IsWhitespace(line[i]))
            {
                if (i > start)
                {
                    yield return line[start..i];
                }
                start = i + 1;
            }
        }
    }

    private static ParsedVerdict Unparseable(string raw, string problem) =>
        new(VerdictKind.Unparseable, [], [], raw, "Unparseable Llama Guard answer: " + problem + ".");

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
