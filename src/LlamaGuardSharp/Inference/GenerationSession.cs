using System.Diagnostics;
using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// One sequence being decoded: <see cref="Prefill"/> runs the prompt (its images encoded beforehand), then each
/// <see cref="Step"/> appends one token and returns the next-token logits. Any token can be fed to <see cref="Step"/>,
/// so callers can force tokens (e.g. <c>unsafe</c>, <c>\n</c>, <c>S</c>) and read the distribution that follows.
/// Holds its own KV cache and reads the images' cross-attention memory (which stays its owner's: the image cache, or
/// whoever encoded them); not thread-safe (use one session per thread — the model itself is shared safely). Dispose it when done: its KV cache goes back to the model's pool for the next session (an
/// undisposed session's cache is simply left to the garbage collector).
/// </summary>
internal sealed class GenerationSession : IDisposable
{
    private readonly MllamaModel _model;
    private readonly KvCache _cache;
    private readonly List<int> _tokens = [];
    private CrossAttentionMemory? _memory;
    private CrossAttentionMask? _mask;
    private DraftTree? _branchingDraft; // a draft tree with branches still in the cache, waiting for AcceptDraft
    private int _draftStart;

    /// <param name="capacity">Maximum tokens (prompt + generated) this session will hold.</param>
    public GenerationSession(MllamaModel model, int capacity)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        _cache = model.Text.CreatePooledCache(capacity);
    }

    /// <summary>Hands the KV cache back to the model's pool; the session cannot be used afterwards.</summary>
    public void Dispose() => _cache.Release();

    /// <summary>Every token processed so far (prompt, then stepped tokens).</summary>
    public IReadOnlyList<int> Tokens => _tokens;

    /// <summary>Number of tokens processed (the position of the next one).</summary>
    public int Position => _cache.Length;

    public int Capacity => _cache.Capacity;

    /// <summary>Time the prompt's images took to encode (vision tower, projector, cross K/V).</summary>
    public TimeSpan VisionTime { get; private set; }

    /// <summary>Time spent in the text decoder by <see cref="Prefill"/>.</summary>
    public TimeSpan PrefillTime { get; private set; }

    /// <summary>
    /// The one way to start a session: runs the prompt <paramref name="ids"/> and then the <paramref name="draft"/> tokens
    /// in the same pass, and returns the logits of the prompt's last position followed by those after each draft token
    /// ([draft.Count + 1][vocab]): what one step per draft token would return, for the cost of a prefill a few rows
    /// longer (a decode step streams all the text weights for one token; the prefill streams them once for every row).
    /// Row i + 1 holds the logits after draft token i given its own branch (the prompt, then its ancestors); when the
    /// draft branches, call <see cref="AcceptDraft"/> (or <see cref="Rewind"/> to the prompt's end) before stepping on.
    /// </summary>
    /// <param name="ids">The prompt, with one <c>&lt;|image|&gt;</c> token per image.</param>
    /// <param name="images">The prompt's images, encoded by <see cref="MllamaModel.EncodeImages"/> (null: text only).</param>
    /// <param name="draft">Draft tokens to run with the prompt (null: none).</param>
    /// <param name="reused">Keys/values of the prompt's first tokens from an earlier prompt with the same images (null:
    /// none): those tokens are copied, not recomputed, and the result has the same bits as a full prefill.</param>
    /// <param name="cancellationToken">Checked between layers.</param>
    public float[][] Prefill(ReadOnlySpan<int> ids, EncodedImages? images = null, DraftTree? draft = null, ReusedPrefix? reused = null,
        CancellationToken cancellationToken = default)
    {
        EnsureFresh(ids);
        draft ??= DraftTree.Empty;
        if (images is not null)
        {
            _mask = _model.BuildCrossAttentionMask(ids, images.NumTiles);
            _memory = images.Memory;
            VisionTime = images.EncodingTime;
        }
        else if (ids.Contains(_model.ImageTokenId))
        {
            throw new ModelInputException("The prompt has an image token but no image was given.");
        }
        var watch = Stopwatch.StartNew();
        int start = 0;
        if (reused is { Length: > 0 })
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(reused.Length, ids.Length, nameof(reused));
            reused.CopyTo(_cache);
            start = reused.Length;
        }
        // The mask above covers the prompt; draft positions repeat its last row, exactly as stepped tokens do.
        var batch = DecoderBatch.PromptWithDraft(ids, start, draft, _memory, _mask);
        var logits = _model.Text.Forward(batch, _cache, null, cancellationToken);
        PrefillTime = watch.Elapsed;
        _tokens.AddRange(ids.ToArray());
        _tokens.AddRange(draft.Tokens);
        _draftStart = ids.Length;
        _branchingDraft = draft.IsChain ? null : draft;
        int rows = batch.LogitRows.Length, vocab = logits.Length / rows;
        return Enumerable.Range(0, rows).Select(r => logits.AsSpan(r * vocab, vocab).ToArray()).ToArray();
    }

    /// <summary>The session's KV cache (the model keeps a copy of a prompt's rows for the next prompt).</summary>
    internal KvCache Cache => _cache;

    /// <summary>The model the session runs.</summary>
    internal MllamaModel Model => _model;

    private void EnsureFresh(ReadOnlySpan<int> ids)
    {
        if (_cache.Length != 0)
        {
            throw new InvalidOperationException("Prefill was already called on this session.");
        }
        if (ids.IsEmpty)
        {
            throw new ModelInputException("The prompt has no tokens.");
        }
    }

    /// <summary>Appends <paramref name="tokenId"/> at the next position and returns the logits that follow it.</summary>
    public float[] Step(int tokenId, CancellationToken cancellationToken = default)
    {
        if (_cache.Length == 0)
        {
            throw new InvalidOperationException("Call Prefill before Step.");
        }
        return Append([tokenId], cancellationToken);
    }

    /// <summary>
    /// Appends <paramref name="tokenIds"/> at the next positions in one pass through the decoder and returns the logits
    /// that follow the last of them: the same tokens as a <see cref="Step"/> per token, but the weights are streamed
    /// once for all of them (a decode step is bound by reading ≈ 18.5 GB of text weights, so forcing the three tokens
    /// of <c>unsafe\nS</c> costs one step's time instead of three). The logits agree with stepping to float32 rounding
    /// (the small-M GEMM gives each row the bits it would get alone; the attention over several rows may round
    /// differently).
    /// </summary>
    public float[] Extend(ReadOnlySpan<int> tokenIds, CancellationToken cancellationToken = default)
    {
        if (_cache.Length == 0)
        {
            throw new InvalidOperationException("Call Prefill before Extend.");
        }
        if (tokenIds.IsEmpty)
        {
            throw new ArgumentException("No tokens to append.", nameof(tokenIds));
        }
        return Append(tokenIds, cancellationToken);
    }

    /// <summary>Runs <paramref name="tokenIds"/> after the cached tokens; the logits after the last of them.</summary>
    private float[] Append(ReadOnlySpan<int> tokenIds, CancellationToken cancellationToken)
    {
        EnsureNoBranches();
        var batch = DecoderBatch.Sequence(tokenIds, _cache.Length, [tokenIds.Length - 1], _memory, _mask);
        var logits = _model.Text.Forward(batch, _cache, null, cancellationToken);
        _tokens.AddRange(tokenIds.ToArray());
        return logits;
    }

    /// <summary>
    /// Goes back to <paramref name="position"/> (≥ 1, ≤ <see cref="Position"/>): later tokens are forgotten and the next
    /// <see cref="Step"/> continues from there. The image memory is kept, so branching costs only the steps taken.
    /// </summary>
    public void Rewind(int position)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(position, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position, _cache.Length);
        if (_branchingDraft is not null && position > _draftStart)
        {
            throw new InvalidOperationException("The draft tree's branches are still in the cache: call AcceptDraft, or rewind to the prompt's end.");
        }
        _branchingDraft = null;
        _cache.Truncate(position);
        _tokens.RemoveRange(position, _tokens.Count - position);
    }

    /// <summary>
    /// Right after a <see cref="Prefill"/> with a draft: keeps
    /// the draft tokens on the path from the prompt's end to draft token <paramref name="node"/> (−1: none) and forgets
    /// the others, so the session stands exactly where stepping that path token by token would have left it (position =
    /// prompt length + depth of the node + 1).
    /// </summary>
    public void AcceptDraft(DraftTree draft, int node)
    {
        ArgumentNullException.ThrowIfNull(draft);
        ArgumentOutOfRangeException.ThrowIfLessThan(node, -1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(node, draft.Count);
        if (_cache.Length != _draftStart + draft.Count || !_tokens.Skip(_draftStart).SequenceEqual(draft.Tokens))
        {
            throw new InvalidOperationException("The session does not end with this draft (AcceptDraft belongs right after Prefill with that draft).");
        }
        var path = new List<int>();
        for (int i = node; i >= 0; i = draft.Parents[i])
        {
            path.Insert(0, i);
        }
        _cache.Compact(_draftStart, path.ToArray());
        var kept = path.Select(i => draft.Tokens[i]).ToArray();
        _tokens.RemoveRange(_draftStart, _tokens.Count - _draftStart);
        _tokens.AddRange(kept);
        _branchingDraft = null;
    }

    private void EnsureNoBranches()
    {
        if (_branchingDraft is not null)
        {
            throw new InvalidOperationException("The draft tree's branches are still in the cache: call AcceptDraft first.");
        }
    }
}
