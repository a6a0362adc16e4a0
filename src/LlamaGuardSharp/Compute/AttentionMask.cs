namespace LlamaGuardSharp.Compute;

/// <summary>
/// Which keys a query may attend to. The shapes Mllama needs are structured (never an L×L matrix):
/// causal self-attention with a KV-cache offset, the vision encoder's "pad with pad" mask, the
/// cross-attention mask that allows or forbids whole blocks of keys (one block per image tile), and a causal mask whose
/// last tokens form a tree of draft tokens (speculative prefill with several branches).
/// </summary>
internal sealed class AttentionMask
{
    private readonly bool[]? _isPad;
    private readonly bool[]? _allowedBlocks;
    private readonly int[]? _padPrefix;      // PadPairs: _padPrefix[j] = number of pad positions before j
    private readonly float[]? _padPenalty;   // PadPairs: -inf at pad keys, 0 elsewhere (added to a pad query's scores)
    private readonly ulong[]? _treeVisible;  // CausalTree: per tree token, bit u = sees tree token u

    private AttentionMask(AttentionMaskKind kind, int queryOffset, bool[]? isPad, bool[]? allowedBlocks, int blockSize, int blocksPerQuery,
        int treeStart = 0, ulong[]? treeVisible = null)
    {
        TreeStart = treeStart;
        _treeVisible = treeVisible;
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

    /// <summary>For <see cref="AttentionMaskKind.Causal"/> and <see cref="AttentionMaskKind.CausalTree"/>: absolute position of
    /// query 0 (number of cached keys before it).</summary>
    public int QueryOffset { get; }

    /// <summary>For <see cref="AttentionMaskKind.CausalTree"/>: absolute position of the first tree token.</summary>
    public int TreeStart { get; }

    /// <summary>For <see cref="AttentionMaskKind.CausalTree"/>: number of tree tokens.</summary>
    public int TreeTokens => _treeVisible?.Length ?? 0;

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
    /// Causal up to <paramref name="treeStart"/>, then a tree: the tokens at absolute positions treeStart, treeStart + 1, …
    /// are draft tokens laid out one after the other although they branch, and tree token t sees every key before
    /// treeStart and the tree tokens u whose bit is set in <paramref name="visibleTreeTokens"/>[t] (its ancestors and
    /// itself). Query i sits at absolute position <paramref name="queryOffset"/> + i, as for <see cref="Causal"/>. A
    /// sibling branch is thus computed in the same pass as if the other branch were not there.
    /// </summary>
    public static AttentionMask CausalTree(int queryOffset, int treeStart, ReadOnlySpan<ulong> visibleTreeTokens)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(queryOffset);
        ArgumentOutOfRangeException.ThrowIfLessThan(treeStart, queryOffset);
        if (visibleTreeTokens.Length is 0 or > 64)
        {
            throw new ArgumentException($"A tree has 1..64 tokens, got {visibleTreeTokens.Length}.", nameof(visibleTreeTokens));
        }
        for (int t = 0; t < visibleTreeTokens.Length; t++)
        {
            if (t < 63 && visibleTreeTokens[t] >> (t + 1) != 0)
            {
                throw new ArgumentException($"Tree token {t} is marked as seeing a later tree token.", nameof(visibleTreeTokens));
            }
        }
        return new(AttentionMaskKind.CausalTree, queryOffset, null, null, 0, 0, treeStart, visibleTreeTokens.ToArray());
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
        AttentionMaskKind.CausalTree => key <= QueryOffset + query && (key < TreeStart || SeesTreeToken(QueryOffset + query - TreeStart, key - TreeStart)),
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
            case AttentionMaskKind.CausalTree:
                if (j0 > QueryOffset + iMax)
                {
                    return MaskTileState.NoneVisible;
                }
                // Tree queries × tree keys may hide a sibling branch; elsewhere the causal rule decides.
                return j1 >= TreeStart && QueryOffset + iMax >= TreeStart || j1 > QueryOffset + iMin ? MaskTileState.Mixed : MaskTileState.AllVisible;
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
            case AttentionMaskKind.CausalTree:
                {
                    int position = QueryOffset + query, firstHidden = Math.Max(0, position + 1 - j0);
                    if (firstHidden < count)
                    {
                        scores[firstHidden..].Fill(float.NegativeInfinity);
                    }
                    if (Kind == AttentionMaskKind.CausalTree && position >= TreeStart)
                    {
                        for (int j = Math.Max(0, TreeStart - j0); j < Math.Min(count, firstHidden); j++)
                        {
                            if (!SeesTreeToken(position - TreeStart, j0 + j - TreeStart))
                            {
                                scores[j] = float.NegativeInfinity;
                            }
                        }
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

    /// <summary>For <see cref="AttentionMaskKind.CausalTree"/>: whether tree token <paramref name="t"/> sees tree token <paramref name="u"/>.</summary>
    internal bool SeesTreeToken(int t, int u) => t < _treeVisible!.Length && u < _treeVisible.Length && (_treeVisible[t] >> u & 1) != 0;

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
            case AttentionMaskKind.CausalTree when (long)QueryOffset + queries > (long)TreeStart + TreeTokens:
                throw new ArgumentException($"The tree mask ends at position {TreeStart + TreeTokens}, before the last query ({QueryOffset + queries - 1}).");
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

internal enum AttentionMaskKind
{
    None,
    Causal,
    PadPairs,
    KeyBlocks,
    CausalTree,
}
