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
            var entry = _entries[e];
            if (entry.ImageKey != imageKey)
            {
                continue;
            }
            int limit = Math.Min(entry.Tokens.Length, ids.Length - 1), length = 0;
            while (length < limit && entry.Tokens[length] == ids[length])
            {
                length++;
            }
            if (length > bestLength)
            {
                (best, bestLength) = (e, length);
            }
        }
        return (best, bestLength);
    }

    /// <summary>Copies the first <paramref name="length"/> rows of entry <paramref name="entry"/> into <paramref name="target"/> (an empty session cache).</summary>
    public void CopyTo(int entry, KvCache target, int length) => target.CopyFrom(_entries[entry].Cache, length);

    /// <summary>
    /// Keeps the first min(TokensPerEntry, prompt length) rows of <paramref name="source"/>, the cache the prompt
    /// <paramref name="ids"/> was just run into: in place of <paramref name="reusedEntry"/> (the entry its prefix came
    /// from, −1 for none), else of the least recently used entry when the cache is full.
    /// </summary>
    public void Store(ReadOnlySpan<int> ids, string? imageKey, KvCache source, int reusedEntry)
    {
        int rows = Math.Min(TokensPerEntry, Math.Min(ids.Length, source.Length));
        if (rows == 0 || Entries == 0)
        {
            return;
        }
        Entry entry;
        if (reusedEntry >= 0)
        {
            entry = _entries[reusedEntry];
            _entries.RemoveAt(reusedEntry);
        }
        else
        {
            if (_entries.Count >= Entries)
            {
                _entries.RemoveAt(_entries.Count - 1); // let the old buffers go before new ones are allocated
            }
            entry = new Entry([], null, source.CreateEmptyLike(TokensPerEntry));
        }
        entry.Cache.CopyFrom(source, rows);
        entry.Tokens = ids[..rows].ToArray();
        entry.ImageKey = imageKey;
        _entries.Insert(0, entry);
    }

    public void Clear() => _entries.Clear();
}
