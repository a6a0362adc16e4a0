using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// The keys/values of the last prompts a <see cref="GuardModel"/> ran (the first <see cref="TokensPerEntry"/> tokens of
/// each, <see cref="Entries"/> prompts), so that the next prompt that starts with the same tokens — every Llama Guard
/// prompt of one task and policy shares the template's header, ≈ 140 tokens of a ≈ 200-token text-only prompt — only
/// runs the rest through the decoder. Two entries, because a chat is typically moderated by alternating prompt and
/// response classifications, whose headers differ from their first line on ("… in 'User' messages" / "'Agent'").
/// The reused rows are exactly what the decoder would compute again: a row's keys and values depend only on the tokens
/// up to it (causal attention) and, through the cross-attention layers, on the image — so a prefix is reused only with
/// the same image (or none): with Hugging Face's masking even the rows before the image token see it. Not thread-safe:
/// the model calls it under its request gate.
/// </summary>
internal sealed class PromptPrefixCache(int tokensPerEntry, int entries = 2)
{
    private sealed class Entry(int[] tokens, string? imageKey, KvCache cache)
    {
        public int[] Tokens { get; set; } = tokens;

        public string? ImageKey { get; set; } = imageKey;

        public KvCache Cache { get; } = cache;
    }

    private readonly List<Entry> _entries = []; // most recently used first

    /// <summary>Most prompt tokens kept per entry (0: the cache is off).</summary>
    public int TokensPerEntry { get; } = tokensPerEntry;

    /// <summary>Most prompts kept.</summary>
    public int Entries { get; } = entries;

    /// <summary>Prompts held now.</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// The entry and length of the longest reusable prefix of <paramref name="ids"/> (classified with the image of key
    /// <paramref name="imageKey"/>, null for none): the longest common prefix with a cached prompt of the same image, short
    /// of the prompt's last token (its logits are needed, so it always runs). Length 0: nothing to reuse.
    /// </summary>
    public (int Entry, int Length) Match(ReadOnlySpan<int> ids, string? imageKey)
    {
        int best = -1, bestLength = 0;
        for (int e = 0; e < _entries.Count; e++)
        {
            int length = ids.IsEmpty ? 0 : CommonPrefix(_entries[e], ids[..^1], imageKey);
            if (length > bestLength)
            {
                (best, bestLength) = (e, length);
            }
        }
        return (best, bestLength);
    }

    /// <summary>The longest reusable prefix of <paramref name="ids"/> (see <see cref="Match"/>) as keys/values to copy into a
    /// new session; null when there is none.</summary>
    public ReusedPrefix? Find(ReadOnlySpan<int> ids, string? imageKey)
    {
        var (entry, length) = Match(ids, imageKey);
        return length == 0 ? null : new ReusedPrefix(_entries[entry].Cache, length);
    }

    /// <summary>
    /// Keeps the first min(TokensPerEntry, prompt length) rows of <paramref name="source"/>, the cache the prompt
    /// <paramref name="ids"/> was just run into. It replaces the entry of its template — the one sharing a strictly longer
    /// prefix with it than the others do (a prompt of the other task shares only the template's first line) — or, when
    /// no entry stands out, takes a free slot or the least recently used entry's.
    /// </summary>
    public void Store(ReadOnlySpan<int> ids, string? imageKey, KvCache source)
    {
        int rows = Math.Min(TokensPerEntry, Math.Min(ids.Length, source.Length));
        if (rows == 0 || Entries == 0)
        {
            return;
        }
        int victim = -1;
        if (_entries.Count > 1)
        {
            int best = -1, bestLength = -1, worstLength = int.MaxValue;
            for (int e = 0; e < _entries.Count; e++)
            {
                int length = CommonPrefix(_entries[e], ids, imageKey);
                if (length > bestLength)
                {
                    (best, bestLength) = (e, length);
                }
                worstLength = Math.Min(worstLength, length);
            }
            victim = bestLength > worstLength ? best : -1;
        }
        if (victim < 0 && _entries.Count >= Entries)
        {
            victim = _entries.Count - 1;
        }
        Entry entry;
        if (victim >= 0)
        {
            entry = _entries[victim];
            _entries.RemoveAt(victim);
        }
        else
        {
            entry = new Entry([], null, source.CreateEmptyLike(TokensPerEntry));
        }
        entry.Cache.CopyFrom(source, rows);
        entry.Tokens = ids[..rows].ToArray();
        entry.ImageKey = imageKey;
        _entries.Insert(0, entry);
    }

    private static int CommonPrefix(Entry entry, ReadOnlySpan<int> ids, string? imageKey)
    {
        if (entry.ImageKey != imageKey)
        {
            return 0;
        }
        int limit = Math.Min(entry.Tokens.Length, ids.Length), length = 0;
        while (length < limit && entry.Tokens[length] == ids[length])
        {
            length++;
        }
        return length;
    }

    public void Clear() => _entries.Clear();
}
