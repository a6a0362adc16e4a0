using System.Text;
using System.Text.RegularExpressions;

namespace LlamaGuardSharp.Hub;

/// <summary>
/// Which repository files to download, with huggingface_hub's rules (<c>allow_patterns</c>/<c>ignore_patterns</c>):
/// Python <c>fnmatch.fnmatchcase</c> globs matched against the whole <c>/</c>-separated path — <c>*</c> matches any
/// characters including <c>/</c>, <c>?</c> one character, <c>[seq]</c>/<c>[!seq]</c> a set — case-sensitively; a pattern
/// ending in <c>/</c> means everything under that folder. A file is taken when it matches an include pattern (or there
/// are none) and no exclude pattern.
/// </summary>
public sealed class FilePatterns
{
    private readonly Regex[] _include;
    private readonly Regex[] _exclude;

    /// <summary>What the runtime needs: the JSON configs and tokenizer files, the safetensors shards and their index,
    /// <c>tokenizer.model</c>.</summary>
    public static IReadOnlyList<string> DefaultInclude { get; } = ["*.json", "model*.safetensors", "tokenizer.model"];

    /// <summary>Meta's consolidated checkpoint (<c>original/</c>), which the runtime never reads.</summary>
    public static IReadOnlyList<string> DefaultExclude { get; } = ["original/"];

    /// <summary>The runtime's files (<see cref="DefaultInclude"/> minus <see cref="DefaultExclude"/>).</summary>
    public static FilePatterns Default { get; } = new(DefaultInclude, DefaultExclude);

    /// <summary>Include and exclude globs (empty include = every file).</summary>
    public FilePatterns(IEnumerable<string> include, IEnumerable<string> exclude)
    {
        Include = [.. include];
        Exclude = [.. exclude];
        _include = [.. Include.Select(Translate)];
        _exclude = [.. Exclude.Select(Translate)];
    }

    /// <summary>The include globs as given.</summary>
    public IReadOnlyList<string> Include { get; }

    /// <summary>The exclude globs as given.</summary>
    public IReadOnlyList<string> Exclude { get; }

    /// <summary>True when <paramref name="repoPath"/> is to be downloaded.</summary>
    public bool Matches(string repoPath) =>
        (_include.Length == 0 || _include.Any(r => r.IsMatch(repoPath))) && !_exclude.Any(r => r.IsMatch(repoPath));

    /// <summary>fnmatch's translation of a glob into an anchored regular expression (backslashes read as <c>/</c>).</summary>
    internal static Regex Translate(string pattern)
    {
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        pattern = pattern.Replace('\\', '/');
        if (pattern.EndsWith('/'))
        {
            pattern += "*";
        }
        var regex = new StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            switch (c)
            {
                case '*':
                    regex.Append(".*");
                    break;
                case '?':
                    regex.Append('.');
                    break;
                case '[':
                    int j = i + 1;
                    if (j < pattern.Length && pattern[j] == '!')
                    {
                        j++;
                    }
                    if (j < pattern.Length && pattern[j] == ']')
                    {
                        j++;
                    }
                    while (j < pattern.Length && pattern[j] != ']')
                    {
                        j++;
                    }
                    if (j >= pattern.Length)
                    {
                        regex.Append(@"\[");
                        break;
                    }
                    string set = pattern[(i + 1)..j];
                    bool negate = set.StartsWith('!');
                    if (negate)
                    {
                        set = set[1..];
                    }
                    regex.Append('[').Append(negate ? "^" : "").Append(set.Replace(@"\", @"\\").Replace("[", @"\[").Replace("^", @"\^")).Append(']');
                    i = j;
                    break;
                default:
                    regex.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        return new Regex(regex.Append('$').ToString(), RegexOptions.Singleline | RegexOptions.CultureInvariant);
    }
}
