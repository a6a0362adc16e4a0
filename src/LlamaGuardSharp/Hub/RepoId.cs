using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace LlamaGuardSharp.Hub;

/// <summary>
/// A Hub model repository id, <c>org/name</c> (e.g. <c>meta-llama/Llama-Guard-3-11B-Vision</c>). Both parts follow the
/// Hub's rules: letters, digits, <c>-</c>, <c>_</c>, <c>.</c>; no leading/trailing <c>-</c> or <c>.</c>, no <c>--</c> or
/// <c>..</c>, at most 96 characters.
/// </summary>
public sealed partial record RepoId
{
    private RepoId(string owner, string name)
    {
        Owner = owner;
        Name = name;
    }

    /// <summary>The user or organisation.</summary>
    public string Owner { get; }

    /// <summary>The repository's name.</summary>
    public string Name { get; }

    /// <summary>The hub-cache folder name: <c>models--{org}--{name}</c>.</summary>
    public string CacheFolderName => $"models--{Owner}--{Name}";

    /// <summary>Parses <c>org/name</c>; false for anything else (a path with more parts, a bad character…).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out RepoId? repoId)
    {
        repoId = null;
        if (text is null || text.Length > 96)
        {
            return false;
        }
        int slash = text.IndexOf('/');
        if (slash <= 0 || slash != text.LastIndexOf('/') || !IsValidPart(text[..slash]) || !IsValidPart(text[(slash + 1)..]))
        {
            return false;
        }
        repoId = new RepoId(text[..slash], text[(slash + 1)..]);
        return true;
    }

    /// <summary>Parses <c>org/name</c> or throws an <see cref="ArgumentException"/> naming the value.</summary>
    public static RepoId Parse(string text) => TryParse(text, out var id)
        ? id
        : throw new ArgumentException($"'{text}' is not a Hub repository id (expected org/name, e.g. meta-llama/Llama-Guard-3-11B-Vision).");

    private static bool IsValidPart(string part) => PartPattern().IsMatch(part) && !part.Contains("--", StringComparison.Ordinal) && !part.Contains("..", StringComparison.Ordinal);

    [GeneratedRegex(@"^[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?$")]
    private static partial Regex PartPattern();

    /// <inheritdoc />
    public override string ToString() => $"{Owner}/{Name}";
}
