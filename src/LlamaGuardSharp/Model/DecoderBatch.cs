using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Model;

/// <summary>
/// One pass of tokens through the text decoder, described in one place: the ids, the position each one sits at, the
/// self-attention mask, the rows whose logits are wanted, the image memory with its mask, and whether the kernels must
/// give every row the bits it would get in a batch of any other size. A session builds one per prefill, step or
/// extension; <see cref="TextDecoder.Forward"/> only runs it. Every argument is checked here. Immutable.
/// </summary>
internal sealed class DecoderBatch
{
    private readonly int[] _ids;
    private readonly int[] _positions;
    private readonly int[] _logitRows;

    private DecoderBatch(int[] ids, int start, int[] positions, AttentionMask selfMask, int[] logitRows, CrossAttentionMemory? memory,
        CrossAttentionMask? mask, bool batchInvariant)
    {
        if (ids.Length == 0)
        {
            throw new ModelInputException("No tokens to run.");
        }
        foreach (int row in logitRows)
        {
            if (row < 0 || row >= ids.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(logitRows), $"Logit row {row} is outside 0..{ids.Length - 1}.");
            }
        }
        if ((memory is null) != (mask is null))
        {
            throw new ArgumentException("Cross-attention memory and mask must be given together.");
        }
        if (memory is not null && (mask!.Images != memory.Images || mask.TilesPerImage != memory.TilesPerImage))
        {
            throw new ModelInputException($"The cross-attention mask covers {mask.Images} images × {mask.TilesPerImage} tiles, the vision memory {memory.Images} × {memory.TilesPerImage}.");
        }
        (_ids, _positions, _logitRows) = (ids, positions, logitRows);
        Start = start;
        SelfMask = selfMask;
        Memory = memory;
        Mask = mask;
        BatchInvariant = batchInvariant;
    }

    /// <summary>
    /// <paramref name="ids"/> appended at positions <paramref name="start"/>, <paramref name="start"/> + 1, …, each seeing
    /// every earlier token (causal), with the logits of <paramref name="logitRows"/> (indices into
    /// <paramref name="ids"/>). Without <paramref name="memory"/> the cross-attention layers are skipped; positions past
    /// the mask's rows repeat its last row, as HF does while decoding.
    /// </summary>
    public static DecoderBatch Sequence(ReadOnlySpan<int> ids, int start, ReadOnlySpan<int> logitRows, CrossAttentionMemory? memory,
        CrossAttentionMask? mask)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        var positions = new int[ids.Length];
        for (int i = 0; i < positions.Length; i++)
        {
            positions[i] = start + i;
        }
        return new DecoderBatch(ids.ToArray(), start, positions, AttentionMask.Causal(start), logitRows.ToArray(), memory, mask, batchInvariant: false);
    }

    /// <summary>
    /// A prompt's tokens from <paramref name="start"/> on (the earlier ones are already in the cache), followed by
    /// <paramref name="draft"/>: each draft token runs at the position of its depth in the tree and sees the prompt and
    /// its own ancestors only. Logits: the prompt's last row, then one row per draft token. Batch-invariant, so that a
    /// prompt whose prefix was reused gets the same bits as the whole prompt run at once.
    /// </summary>
    public static DecoderBatch PromptWithDraft(ReadOnlySpan<int> prompt, int start, DraftTree draft, CrossAttentionMemory? memory,
        CrossAttentionMask? mask)
    {
        ArgumentNullException.ThrowIfNull(draft);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(start, prompt.Length);
        int[] ids = [.. prompt[start..], .. draft.Tokens];
        int promptRows = prompt.Length - start; // the draft's first token is ids[promptRows]
        var positions = new int[ids.Length];
        for (int i = 0; i < ids.Length; i++)
        {
            positions[i] = i < promptRows ? start + i : prompt.Length + draft.Depth(i - promptRows);
        }
        AttentionMask selfMask = AttentionMask.Causal(start);
        if (!draft.IsChain)
        {
            var visible = new ulong[draft.Count];
            for (int t = 0; t < visible.Length; t++)
            {
                visible[t] = draft.Ancestry(t);
            }
            selfMask = AttentionMask.CausalTree(start, prompt.Length, visible);
        }
        int[] logitRows = Enumerable.Range(promptRows - 1, draft.Count + 1).ToArray();
        return new DecoderBatch(ids, start, positions, selfMask, logitRows, memory, mask, batchInvariant: true);
    }

    /// <summary>The token ids, in cache order.</summary>
    public ReadOnlySpan<int> Ids => _ids;

    /// <summary>How many tokens the pass appends to the cache.</summary>
    public int Count => _ids.Length;

    /// <summary>The cache length the batch continues from (the first token's place in the cache).</summary>
    public int Start { get; }

    /// <summary>Per token, the position its rotary embedding and cross-attention mask row use.</summary>
    public ReadOnlySpan<int> Positions => _positions;

    public AttentionMask SelfMask { get; }

    /// <summary>Rows (indices into <see cref="Ids"/>) whose logits the pass returns, in order.</summary>
    public ReadOnlySpan<int> LogitRows => _logitRows;

    /// <summary>The image memory (null: text only, the cross-attention layers are skipped).</summary>
    public CrossAttentionMemory? Memory { get; }

    /// <summary>Which tiles each prompt position sees; set together with <see cref="Memory"/>.</summary>
    public CrossAttentionMask? Mask { get; }

    /// <summary>Whether every row's keys, values and logits must be the bits it would get in a batch of any other size.</summary>
    public bool BatchInvariant { get; }
}
