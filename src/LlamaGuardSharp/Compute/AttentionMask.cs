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
    private readonly int[]? _padPrefix;      // PadPairs: _padPrefix[j] = number of pad positions before j
    private readonly float[]? _padPenalty;   // PadPairs: -inf at pad keys, 0 elsewhere (added to a pad query's scores)

    private AttentionMask(AttentionMaskKind kind, int queryOffset, bool[]? isPad, bool[]? allowedBlocks, int blockSize, int blocksPerQuery)
    {
        Kind = kind;
        QueryOffset = queryOffset;
        _isPad = isPad;
        _allowedBlocks = allowedBlocks;
        BlockSize = blockSize;
        BlocksPerQuery = blocksPerQuery;
        if (isPad is not null)
        {
            _padPrefix = new int[isPad.Length + 1];
            _padPenalty = new float[isPad.Length];
            for (int j = 0; j < isPad.Length; j++)
            {
                _padPrefix[j + 1] = _padPrefix[j] + (isPad[j] ? 1 : 0);
                _padPenalty[j] = isPad[j] ? float.NegativeInfinity : 0f;
            }
        }
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

    /// <summary>
    /// Visibility of keys [<paramref name="j0"/>, j0 + count) for every query in [<paramref name="iMin"/>, <paramref name="iMax"/>]:
    /// lets the tiled kernel skip hidden tiles and mask only mixed ones. Callers guarantee the ranges are inside the mask.
    /// </summary>
    internal MaskTileState Classify(int iMin, int iMax, int j0, int count)
    {
        int j1 = j0 + count - 1;
        switch (Kind)
        {
            case AttentionMaskKind.None:
                return MaskTileState.AllVisible;
            case AttentionMaskKind.Causal:
                if (j1 <= QueryOffset + iMin)
                {
                    return MaskTileState.AllVisible;
                }
                return j0 > QueryOffset + iMax ? MaskTileState.NoneVisible : MaskTileState.Mixed;
            case AttentionMaskKind.PadPairs:
                {
                    int padQueries = _padPrefix![iMax + 1] - _padPrefix[iMin], padKeys = _padPrefix[j1 + 1] - _padPrefix[j0];
                    if (padQueries == 0 || padKeys == 0)
                    {
                        return MaskTileState.AllVisible;
                    }
                    return padQueries == iMax - iMin + 1 && padKeys == count ? MaskTileState.NoneVisible : MaskTileState.Mixed;
                }
            case AttentionMaskKind.KeyBlocks:
                {
                    bool any = false, all = true;
                    int b0 = j0 / BlockSize, b1 = j1 / BlockSize;
                    for (int i = iMin; i <= iMax; i++)
                    {
                        for (int b = b0; b <= b1; b++)
                        {
                            bool allowed = _allowedBlocks![i * BlocksPerQuery + b];
                            any |= allowed;
                            all &= allowed;
                        }
                    }
                    return all ? MaskTileState.AllVisible : any ? MaskTileState.Mixed : MaskTileState.NoneVisible;
                }
            default:
                throw new InvalidOperationException();
        }
    }

    /// <summary>Sets <paramref name="scores"/>[j] = -inf where key j0 + j is hidden from query <paramref name="query"/>.</summary>
    internal void HideInvisible(int query, int j0, Span<float> scores)
    {
        int count = scores.Length;
        switch (Kind)
        {
            case AttentionMaskKind.None:
                return;
            case AttentionMaskKind.Causal:
                {
                    int firstHidden = Math.Max(0, QueryOffset + query + 1 - j0);
                    if (firstHidden < count)
                    {
                        scores[firstHidden..].Fill(float.NegativeInfinity);
                    }
                    return;
                }
            case AttentionMaskKind.PadPairs:
                if (_isPad![query])
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(scores, _padPenalty.AsSpan(j0, count), scores);
                }
                return;
            case AttentionMaskKind.KeyBlocks:
                {
                    int j = 0;
                    while (j < count)
                    {
                        int b = (j0 + j) / BlockSize, end = Math.Min(count, (b + 1) * BlockSize - j0);
                        if (!_allowedBlocks![query * BlocksPerQuery + b])
                        {
                            scores[j..end].Fill(float.NegativeInfinity);
                        }
                        j = end;
                    }
                    return;
                }
            default:
                throw new InvalidOperationException();
        }
    }

    /// <summary>Throws when the mask's tables do not cover <paramref name="queries"/> × <paramref name="keys"/>.</summary>
    internal void CheckCovers(int queries, int keys)
    {
        switch (Kind)
        {
            case AttentionMaskKind.PadPairs when _isPad!.Length < Math.Max(queries, keys):
                throw new ArgumentException($"The pad mask has {_isPad.Length} flags, fewer than {Math.Max(queries, keys)} positions.");
            case AttentionMaskKind.KeyBlocks when _allowedBlocks!.Length < (long)queries * BlocksPerQuery:
                throw new ArgumentException($"The block mask has {_allowedBlocks.Length / BlocksPerQuery} query rows, fewer than {queries}.");
            case AttentionMaskKind.KeyBlocks when (long)BlocksPerQuery * BlockSize < keys:
                throw new ArgumentException($"The block mask covers {(long)BlocksPerQuery * BlockSize} keys, fewer than {keys}.");
        }
    }

    /// <summary>The padding flags of a <see cref="AttentionMaskKind.PadPairs"/> mask.</summary>
    public ReadOnlySpan<bool> PadFlags => _isPad;

    /// <summary>The allowed-block table of a <see cref="AttentionMaskKind.KeyBlocks"/> mask, row-major [queries, blocks].</summary>
    public ReadOnlySpan<bool> AllowedBlocks => _allowedBlocks;
}

/// <summary>How much of a (query range × key range) tile a mask lets through.</summary>
internal enum MaskTileState
{
    AllVisible,
    NoneVisible,
    Mixed,
}

public enum AttentionMaskKind
{
    None,
    Causal,
    PadPairs,
    KeyBlocks,
}
