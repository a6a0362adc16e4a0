namespace LlamaGuardSharp.Compute;

/// <summary>
/// Which keys a query may attend to. The three shapes Mllama needs are structured (never an L×L matrix):
/// causal self-attention with a KV-cache offset, the vision encoder's "pad with pad" mask, and the
/// cross-attention mask that allows or forbids whole blocks of keys (one block per image tile).
/// </summary>
public sealed class AttentionMask
{
    private readonly bool[]? _isPad;
    private readonly bool[]? _allowedBlocks;

    private AttentionMask(AttentionMaskKind kind, int queryOffset, bool[]? isPad, bool[]? allowedBlocks, int blockSize, int blocksPerQuery)
    {
        Kind = kind;
        QueryOffset = queryOffset;
        _isPad = isPad;
        _allowedBlocks = allowedBlocks;
        BlockSize = blockSize;
        BlocksPerQuery = blocksPerQuery;
    }

    public AttentionMaskKind Kind { get; }

    /// <summary>For <see cref="AttentionMaskKind.Causal"/>: absolute position of query 0 (number of cached keys before it).</summary>
    public int QueryOffset { get; }

    /// <summary>For <see cref="AttentionMaskKind.KeyBlocks"/>: keys per block.</summary>
    public int BlockSize { get; }

    /// <summary>For <see cref="AttentionMaskKind.KeyBlocks"/>: number of blocks (columns of the allowed table).</summary>
    public int BlocksPerQuery { get; }

    /// <summary>Every query sees every key.</summary>
    public static AttentionMask None { get; } = new(AttentionMaskKind.None, 0, null, null, 0, 0);

    /// <summary>Query i sits at absolute position <paramref name="queryOffset"/> + i and sees keys 0..that position.</summary>
    public static AttentionMask Causal(int queryOffset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(queryOffset);
        return new(AttentionMaskKind.Causal, queryOffset, null, null, 0, 0);
    }

    /// <summary>
    /// The Mllama vision mask: key j is hidden from query i only when both are padding
    /// (<paramref name="isPad"/>[i] and <paramref name="isPad"/>[j]); queries and keys are the same sequence.
    /// </summary>
    public static AttentionMask PadPairs(bool[] isPad)
    {
        ArgumentNullException.ThrowIfNull(isPad);
        return new(AttentionMaskKind.PadPairs, 0, (bool[])isPad.Clone(), null, 0, 0);
    }

    /// <summary>
    /// Key j is visible to query i iff <paramref name="allowed"/>[i * blocks + j / blockSize]. A query with no
    /// allowed block gets a zero output row (callers decide beforehand what such rows should see).
    /// </summary>
    public static AttentionMask KeyBlocks(bool[] allowed, int blocks, int blockSize)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blocks);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        if (allowed.Length % blocks != 0)
        {
            throw new ArgumentException($"The allowed table has {allowed.Length} entries, not a multiple of {blocks} blocks.");
        }
        return new(AttentionMaskKind.KeyBlocks, 0, null, (bool[])allowed.Clone(), blockSize, blocks);
    }

    /// <summary>Whether query <paramref name="query"/> may see key <paramref name="key"/> (reference path; kernels use ranges).</summary>
    public bool IsVisible(int query, int key) => Kind switch
    {
        AttentionMaskKind.None => true,
        AttentionMaskKind.Causal => key <= QueryOffset + query,
        AttentionMaskKind.PadPairs => !(_isPad![query] && _isPad[key]),
        AttentionMaskKind.KeyBlocks => _allowedBlocks![query * BlocksPerQuery + key / BlockSize],
        _ => throw new InvalidOperationException(),
    };

    /// <summary>The padding flags of a <see cref="AttentionMaskKind.PadPairs"/> mask.</summary>
    public ReadOnlySpan<bool> PadFlags => _isPad;

    /// <summary>The allowed-block table of a <see cref="AttentionMaskKind.KeyBlocks"/> mask, row-major [queries, blocks].</summary>
    public ReadOnlySpan<bool> AllowedBlocks => _allowedBlocks;
}

public enum AttentionMaskKind
{
    None,
    Causal,
    PadPairs,
    KeyBlocks,
}
