using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// The keys/values of the last prompt a <see cref="GuardModel"/> ran (its first <see cref="Capacity"/> tokens), so that
/// the next prompt that starts with the same tokens — every Llama Guard prompt of one task and policy shares the
/// template's header, ≈ 140 tokens of a ≈ 200-token text-only prompt — only runs the rest through the decoder. The
/// reused rows are exactly what the decoder would compute again: a row's keys and values depend only on the tokens up to
/// it (causal attention) and, through the cross-attention layers, on the image — so a prefix is reused only with the
/// same image (or none): with Hugging Face's masking even the rows before the image token see it. Not thread-safe: the
/// model calls it under its request gate.
/// </summary>
internal sealed class PromptPrefixCache(int capacity)
{
    private int[] _tokens = [];
    private string? _imageKey;
    private KvCache? _cache;

    /// <summary>Most prompt tokens kept (0: the cache is off).</summary>
    public int Capacity { get; } = capacity;

    /// <summary>Tokens held now.</summary>
    public int Count => _tokens.Length;

    /// <summary>
    /// How many leading tokens of <paramref name="ids"/> (classified with the image of key <paramref name="imageKey"/>,
    /// null for none) can be taken from the cache: the common prefix with the cached prompt, short of the prompt's last
    /// token (its logits are needed, so it always runs).
    /// </summary>
    public int MatchLength(ReadOnlySpan<int> ids, string? imageKey)
    {
        if (_cache is null || imageKey != _imageKey)
        {
            return 0;
        }
        int limit = Math.Min(_tokens.Length, ids.Length - 1), length = 0;
        while (length < limit && _tokens[length] == ids[length])
        {
            length++;
        }
        return length;
    }

    /// <summary>Copies the first <paramref name="length"/> cached rows into <paramref name="target"/> (an empty session cache).</summary>
    public void CopyTo(KvCache target, int length) => target.CopyFrom(_cache!, length);

    /// <summary>Keeps the first min(Capacity, prompt length) rows of <paramref name="source"/>, the cache a prompt was just run into.</summary>
    public void Store(ReadOnlySpan<int> ids, string? imageKey, KvCache source)
    {
        int rows = Math.Min(Capacity, Math.Min(ids.Length, source.Length));
        if (rows == 0)
        {
            return;
        }
        if (_cache is null || _cache.Capacity < rows || _cache.KvDim != source.KvDim)
        {
            _cache = null; // let the old buffers go before the new ones are allocated
            _cache = source.CreateEmptyLike(Capacity);
        }
        _cache.CopyFrom(source, rows);
        _tokens = ids[..rows].ToArray();
        _imageKey = imageKey;
    }

    public void Clear()
    {
        _cache = null;
        _tokens = [];
        _imageKey = null;
    }
}
