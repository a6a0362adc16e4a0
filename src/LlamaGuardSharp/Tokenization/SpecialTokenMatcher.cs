namespace LlamaGuardSharp.Tokenization;

/// <summary>
/// Finds special-token strings in text: leftmost occurrence first, and the longest token where several start at the same
/// position (as HF's added-token splitter does).
/// </summary>
internal sealed class SpecialTokenMatcher
{
    private readonly Dictionary<char, (string Content, int Id)[]> _byFirstChar;
    private readonly System.Buffers.SearchValues<char> _firstChars;

    public SpecialTokenMatcher(IEnumerable<SpecialToken> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Encodable)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).Select(t => (t.Content, t.Id)).ToArray());
        _firstChars = System.Buffers.SearchValues.Create(_byFirstChar.Keys.ToArray());
    }

    /// <summary>Finds the first special token at or after <paramref name="start"/>; returns its index or -1.</summary>
    public int FindNext(ReadOnlySpan<char> text, int start, out int length, out int id)
    {
        int position = start;
        while (position < text.Length)
        {
            int offset = text[position..].IndexOfAny(_firstChars);
            if (offset < 0)
            {
                break;
            }
            position += offset;
            ReadOnlySpan<char> rest = text[position..];
            foreach (var (content, tokenId) in _byFirstChar[rest[0]])
            {
                if (rest.StartsWith(content, StringComparison.Ordinal))
                {
                    length = content.Length;
                    id = tokenId;
                    return position;
                }
            }
            position++;
        }
        length = 0;
        id = -1;
        return -1;
    }
}
