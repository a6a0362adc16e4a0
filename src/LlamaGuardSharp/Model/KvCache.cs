using LlamaGuardSharp.Checkpoints;

namespace LlamaGuardSharp.Model;

/// <summary>
/// Keys (after RoPE) and values of every self-attention layer for the tokens processed so far, preallocated for
/// <see cref="Capacity"/> tokens so decoding never reallocates. Layout per layer: [position, kvHeads, headDim].
/// Cross-attention layers have no entry here (their keys/values come from <see cref="CrossAttentionMemory"/>).
/// Not thread-safe: one cache belongs to one generation session.
/// </summary>
internal sealed class KvCache
{
    private readonly float[]?[] _keys;
    private readonly float[]?[] _values;
    private readonly ActivationPool? _pool; // where the arrays go back on Release (null: not pooled)
    private bool _released;

    /// <param name="layerHasCache">Per decoder layer, whether it is a self-attention layer that needs a cache.</param>
    /// <param name="capacity">Maximum number of tokens (prompt + generated).</param>
    /// <param name="kvDim">kvHeads · headDim.</param>
    public KvCache(IReadOnlyList<bool> layerHasCache, int capacity, int kvDim)
        : this(layerHasCache, capacity, kvDim, null)
    {
    }

    /// <summary>
    /// A cache whose arrays come from <paramref name="pool"/> (rounded up to <see cref="ActivationPool.RowStep"/> positions,
    /// so that sessions of similar length reuse them) and go back with <see cref="Release"/>: a classification then
    /// writes its keys and values into memory the process has touched before (see <see cref="ActivationPool"/>).
    /// </summary>
    internal KvCache(IReadOnlyList<bool> layerHasCache, int capacity, int kvDim, ActivationPool? pool)
    {
        ArgumentNullException.ThrowIfNull(layerHasCache);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvDim);
        Capacity = capacity;
        KvDim = kvDim;
        _keys = new float[]?[layerHasCache.Count];
        _values = new float[]?[layerHasCache.Count];
        _pool = pool;
        long length = (pool is null ? capacity : ActivationPool.RoundRows(capacity)) * (long)kvDim;
        for (int i = 0; i < layerHasCache.Count; i++)
        {
            if (layerHasCache[i])
            {
                _keys[i] = pool is null ? new float[length] : pool.Rent(length);
                _values[i] = pool is null ? new float[length] : pool.Rent(length);
            }
        }
    }

    /// <summary>
    /// Hands a pooled cache's arrays back to its pool; the cache must not be used afterwards (it throws
    /// <see cref="ObjectDisposedException"/>). No effect on a cache without a pool or one already released.
    /// </summary>
    internal void Release() => ActivationPool.ReleaseOnce(_pool, ref _released, _keys, _values);

    public int Capacity { get; }

    /// <summary>Bytes one token takes in a cache of this layout: float32 keys and values of every self-attention layer.</summary>
    public static long BytesPerToken(MllamaTextConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int selfLayers = Enumerable.Range(0, config.NumHiddenLayers).Count(i => !config.IsCrossAttentionLayer(i));
        return 2L * selfLayers * config.NumKeyValueHeads * config.HeadDim * sizeof(float);
    }

    /// <summary>An empty cache with the same layers and width, for <paramref name="capacity"/> tokens.</summary>
    internal KvCache CreateEmptyLike(int capacity) => new(_keys.Select(k => k is not null).ToArray(), capacity, KvDim);

    public int KvDim { get; }

    /// <summary>Number of positions filled (the position of the next token).</summary>
    public int Length { get; private set; }

    /// <summary>The whole key buffer of <paramref name="layer"/> (valid rows: 0..Length+pending).</summary>
    internal float[] Keys(int layer) => _keys[layer] ?? throw Missing(layer);

    internal float[] Values(int layer) => _values[layer] ?? throw Missing(layer);

    private void ThrowIfReleased() => ObjectDisposedException.ThrowIf(_released, this);

    private Exception Missing(int layer) => _released
        ? new ObjectDisposedException(nameof(KvCache), "The KV cache's arrays were handed back to the model's pool.")
        : new InvalidOperationException($"Layer {layer} has no KV cache.");

    /// <summary>Checks that <paramref name="tokens"/> more positions fit.</summary>
    internal void EnsureRoom(int tokens)
    {
        ThrowIfReleased();
        if (Length + tokens > Capacity)
        {
            throw new ModelInputException($"The sequence would reach {Length + tokens} tokens, over the cache capacity of {Capacity}.");
        }
    }

    /// <summary>Marks <paramref name="tokens"/> positions, written by every layer, as filled.</summary>
    internal void Advance(int tokens) => Length += tokens;

    /// <summary>
    /// Forgets the positions from <paramref name="length"/> on, so decoding can branch from an earlier point
    /// (e.g. to force other tokens after the answer position) without recomputing the prompt.
    /// </summary>
    public void Truncate(int length)
    {
        ThrowIfReleased();
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
        Length = length;
    }

    /// <summary>
    /// Keeps, of the positions from <paramref name="start"/> on, only those at start + <paramref name="keep"/>[r]
    /// (ascending), moved down to start + r; the rest are forgotten. Used after a draft tree: the accepted branch's keys
    /// were computed at the positions of their depth (RoPE included), so once moved down they are exactly what stepping
    /// the branch token by token would have cached.
    /// </summary>
    internal void Compact(int start, ReadOnlySpan<int> keep)
    {
        ThrowIfReleased();
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, Length);
        for (int r = 0; r < keep.Length; r++)
        {
            if (keep[r] < r || (r > 0 && keep[r] <= keep[r - 1]) || start + keep[r] >= Length)
            {
                throw new ArgumentException($"Kept rows must ascend within the cache; row {r} is {keep[r]}.", nameof(keep));
            }
        }
        for (int layer = 0; layer < _keys.Length; layer++)
        {
            if (_keys[layer] is not { } keys || _values[layer] is not { } values)
            {
                continue;
            }
            for (int r = 0; r < keep.Length; r++)
            {
                if (keep[r] != r)
                {
                    Array.Copy(keys, (long)(start + keep[r]) * KvDim, keys, (long)(start + r) * KvDim, KvDim);
                    Array.Copy(values, (long)(start + keep[r]) * KvDim, values, (long)(start + r) * KvDim, KvDim);
                }
            }
        }
        Length = start + keep.Length;
    }

    /// <summary>
    /// Replaces this cache's contents with the first <paramref name="rows"/> positions of <paramref name="source"/> (a
    /// cache of the same model): the keys/values of a prompt prefix computed earlier, so that only the rest of a prompt
    /// that starts the same way needs a forward pass.
    /// </summary>
    internal void CopyFrom(KvCache source, int rows)
    {
        ThrowIfReleased();
        ArgumentNullException.ThrowIfNull(source);
        source.ThrowIfReleased();
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, source.Length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, Capacity);
        if (source.KvDim != KvDim || source._keys.Length != _keys.Length)
        {
            throw new ArgumentException("The source cache belongs to a model of another shape.", nameof(source));
        }
        for (int layer = 0; layer < _keys.Length; layer++)
        {
            if ((_keys[layer] is null) != (source._keys[layer] is null))
            {
                throw new ArgumentException($"Layer {layer} has a cache in one model and not in the other.", nameof(source));
            }
            if (_keys[layer] is { } keys)
            {
                Array.Copy(source._keys[layer]!, keys, (long)rows * KvDim);
                Array.Copy(source._values[layer]!, _values[layer]!, (long)rows * KvDim);
            }
        }
        Length = rows;
    }

    /// <summary>Forgets every position (the buffers are kept).</summary>
    public void Clear() => Length = 0;
}
