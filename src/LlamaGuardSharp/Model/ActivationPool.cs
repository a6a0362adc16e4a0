namespace LlamaGuardSharp.Model;

/// <summary>
/// Large activation arrays kept between forward passes and handed out again by exact length (the vision encoder's
/// buffers have the same sizes on every call), so a classification does not touch fresh memory for them.
/// Thread-safe: concurrent passes simply rent different arrays.
/// </summary>
/// <remarks>
/// Why: touching memory the process has not used yet is slow on a virtual machine (the host backs the guest's pages on
/// first use: milliseconds per MB, figures in docs/performance-log.md), and the vision encoder alone needs ≈ 0.8 GB of
/// buffers per image (its block buffers, the tapped layers, the assembled features). The pool makes a classification's
/// speed independent of whether the collector has handed that memory back between requests.
/// The retained size is bounded (<see cref="MaxKeptBytes"/>); arrays beyond it are left to the collector.
/// </remarks>
internal sealed class ActivationPool
{
    /// <summary>
    /// Arrays sized by a token count (KV caches, the text decoder's layer buffers) are rented for a multiple of this many
    /// rows, so that requests of similar length find each other's arrays (the pool hands out exact lengths).
    /// </summary>
    public const int RowStep = 64;

    /// <summary><paramref name="rows"/> rounded up to a multiple of <see cref="RowStep"/>.</summary>
    public static long RoundRows(int rows) => ((long)rows + RowStep - 1) / RowStep * RowStep;

    /// <summary>By default arrays shorter than this (1 MiB of floats) are not pooled: they are cheap to touch.</summary>
    public const long DefaultMinPooledLength = 1L << 18;

    private readonly Dictionary<long, Stack<float[]>> _free = [];
    private readonly Lock _gate = new();
    private long _keptFloats;

    /// <param name="maxKeptBytes">At most this many bytes of arrays are kept for reuse.</param>
    /// <param name="minPooledLength">Shorter arrays are plain allocations (tests pass 1 so that tiny models use the pool).</param>
    public ActivationPool(long maxKeptBytes, long minPooledLength = DefaultMinPooledLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxKeptBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(minPooledLength);
        MaxKeptBytes = maxKeptBytes;
        MinPooledLength = minPooledLength;
    }

    /// <summary>Arrays shorter than this are not pooled.</summary>
    public long MinPooledLength { get; }

    /// <summary>The most memory the pool holds between passes.</summary>
    public long MaxKeptBytes { get; }

    /// <summary>Bytes held for reuse now.</summary>
    public long KeptBytes
    {
        get
        {
            lock (_gate)
            {
                return _keptFloats * sizeof(float);
            }
        }
    }

    /// <summary>A zero-filled array of exactly <paramref name="length"/> floats.</summary>
    public float[] Rent(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length >= MinPooledLength)
        {
            float[]? found = null;
            lock (_gate)
            {
                if (_free.TryGetValue(length, out var stack) && stack.Count > 0)
                {
                    found = stack.Pop();
                    _keptFloats -= length;
                }
            }
            if (found is not null)
            {
                Array.Clear(found);
                return found;
            }
        }
        return new float[length];
    }

    /// <summary>A pooled copy of <paramref name="source"/>.</summary>
    public float[] Clone(float[] source)
    {
        ArgumentNullException.ThrowIfNull(source);
        float[] copy = Rent(source.Length);
        source.CopyTo(copy, 0);
        return copy;
    }

    /// <summary>
    /// The release of an owner of per-layer keys and values (a KV cache, an image's cross-attention memory): hands both
    /// lists back to <paramref name="pool"/> once, and marks the owner <paramref name="released"/>. No effect without a
    /// pool or when already released.
    /// </summary>
    public static void ReleaseOnce(ActivationPool? pool, ref bool released, float[]?[] keys, float[]?[] values)
    {
        if (pool is null || released)
        {
            return;
        }
        released = true;
        pool.ReturnAll(keys);
        pool.ReturnAll(values);
    }

    /// <summary>Hands every array of <paramref name="arrays"/> back (see <see cref="Return"/>) and clears the entries.</summary>
    public void ReturnAll(float[]?[] arrays)
    {
        ArgumentNullException.ThrowIfNull(arrays);
        for (int i = 0; i < arrays.Length; i++)
        {
            Return(arrays[i]);
            arrays[i] = null;
        }
    }

    /// <summary>Hands <paramref name="array"/> back (null and short arrays are ignored); the caller must not use it again.</summary>
    public void Return(float[]? array)
    {
        if (array is null || array.LongLength < MinPooledLength)
        {
            return;
        }
        lock (_gate)
        {
            if ((_keptFloats + array.LongLength) * sizeof(float) > MaxKeptBytes)
            {
                return;
            }
            if (!_free.TryGetValue(array.LongLength, out var stack))
            {
                _free[array.LongLength] = stack = new Stack<float[]>();
            }
            foreach (float[] kept in stack)
            {
                if (ReferenceEquals(kept, array))
                {
                    return; // returned twice: keep one reference (a second renter would share it)
                }
            }
            stack.Push(array);
            _keptFloats += array.LongLength;
        }
    }
}
