using System.Diagnostics;
using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// One sequence being decoded: <see cref="Prefill"/> runs the vision tower (once) and the prompt, then each
/// <see cref="Step"/> appends one token and returns the next-token logits. Any token can be fed to <see cref="Step"/>,
/// so callers can force tokens (e.g. <c>unsafe</c>, <c>\n</c>, <c>S</c>) and read the distribution that follows.
/// Holds its own KV cache and cross-attention memory; not thread-safe (use one session per thread — the model itself
/// is shared safely). Dispose it when done: its KV cache goes back to the model's pool for the next session (an
/// undisposed session's cache is simply left to the garbage collector).
/// </summary>
public sealed class GenerationSession : IDisposable
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

    /// <summary>Time the images took to encode (vision tower, projector, cross K/V); for images encoded beforehand, their encoding time.</summary>
    public TimeSpan VisionTime { get; private set; }

    /// <summary>Time spent in the text decoder by <see cref="Prefill"/>.</summary>
    public TimeSpan PrefillTime { get; private set; }

    /// <summary>
    /// Runs the prompt <paramref name="ids"/> (with one <c>&lt;|image|&gt;</c> token per image, in order) and returns
    /// the logits of its last position. Can be called once per session.
    /// </summary>
    public float[] Prefill(ReadOnlySpan<int> ids, IReadOnlyList<VisionInput>? images = null, CancellationToken cancellationToken = default) =>
        PrefillWithDraft(ids, [], images, cancellationToken)[0];

    /// <summary>
    /// Runs the prompt <paramref name="ids"/> and then the <paramref name="draft"/> tokens in the same pass, and returns
    /// the logits of the prompt's last position followed by those after each draft token ([draft.Length + 1][vocab]):
    /// what <see cref="Prefill"/> and one <see cref="Step"/> per draft token would return, for the cost of a prefill a
    /// few tokens longer (a decode step streams all the text weights for one token; the prefill streams them once for
    /// every row). Speculative decoding with a fixed draft: the caller accepts draft tokens while they equal the greedy
    /// choice and <see cref="Rewind"/>s past the first one that does not. Can be called once per session.
    /// </summary>
    public float[][] PrefillWithDraft(ReadOnlySpan<int> ids, ReadOnlySpan<int> draft, IReadOnlyList<VisionInput>? images = null,
        CancellationToken cancellationToken = default) =>
        PrefillWithDraft(ids, DraftTree.Chain(draft), images, cancellationToken);

    /// <summary>
    /// <see cref="PrefillWithDraft(ReadOnlySpan{int}, ReadOnlySpan{int}, IReadOnlyList{VisionInput}?, CancellationToken)"/>
    /// with a draft that branches: row i + 1 of the result holds the logits after draft token i given its own branch
    /// (the prompt, then its ancestors). When the draft has branches, call <see cref="AcceptDraft"/> (or
    /// <see cref="Rewind"/> to the prompt's end) before stepping on.
    /// </summary>
    public float[][] PrefillWithDraft(ReadOnlySpan<int> ids, DraftTree draft, IReadOnlyList<VisionInput>? images = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(draft);
        EnsureFresh(ids);
        EncodedImages? encoded = null;
        if (images is { Count: > 0 })
        {
            _model.BuildCrossAttentionMask(ids, images); // validate the prompt before the expensive vision work
            encoded = _model.EncodeImages(images, cancellationToken);
        }
        return RunPrompt(ids, draft, encoded, cancellationToken);
    }

    /// <summary>
    /// <see cref="PrefillWithDraft(ReadOnlySpan{int}, ReadOnlySpan{int}, IReadOnlyList{VisionInput}?, CancellationToken)"/>
    /// with images encoded beforehand by <see cref="MllamaModel.EncodeImages"/> (null: text only).
    /// </summary>
    public float[][] PrefillWithDraft(ReadOnlySpan<int> ids, ReadOnlySpan<int> draft, EncodedImages? images, CancellationToken cancellationToken) =>
        RunPrompt(ids, DraftTree.Chain(draft), images, cancellationToken);

    /// <summary>
    /// <see cref="PrefillWithDraft(ReadOnlySpan{int}, DraftTree, IReadOnlyList{VisionInput}?, CancellationToken)"/> with
    /// images encoded beforehand (null: text only).
    /// </summary>
    public float[][] PrefillWithDraft(ReadOnlySpan<int> ids, DraftTree draft, EncodedImages? images, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(draft);
        return RunPrompt(ids, draft, images, cancellationToken);
    }

    /// <summary>
    /// Runs the prompt against images encoded beforehand by <see cref="MllamaModel.EncodeImages"/> (null: text only) and
    /// returns the logits of its last position. Can be called once per session.
    /// </summary>
    public float[] PrefillWithEncodedImages(ReadOnlySpan<int> ids, EncodedImages? images, CancellationToken cancellationToken = default) =>
        RunPrompt(ids, DraftTree.Empty, images, cancellationToken)[0];

    /// <summary>
    /// <see cref="PrefillWithDraft(ReadOnlySpan{int}, DraftTree, EncodedImages?, CancellationToken)"/> whose first
    /// <paramref name="reused"/> prompt tokens' keys/values come from <paramref name="prefix"/> (the same tokens, run
    /// earlier with the same images) instead of a forward pass.
    /// </summary>
    internal float[][] PrefillWithDraft(ReadOnlySpan<int> ids, DraftTree draft, EncodedImages? images, PromptPrefixCache prefix, int entry, int reused,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(draft);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentOutOfRangeException.ThrowIfNegative(reused);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(reused, ids.Length);
        return RunPrompt(ids, draft, images, cancellationToken, reused == 0 ? null : (prefix, entry), reused);
    }

    /// <summary>The session's KV cache (the model keeps a copy of a prompt's rows for the next prompt).</summary>
    internal KvCache Cache => _cache;

    private float[][] RunPrompt(ReadOnlySpan<int> ids, DraftTree draft, EncodedImages? images, CancellationToken cancellationToken,
        (PromptPrefixCache Cache, int Entry)? prefix = null, int reused = 0)
    {
        EnsureFresh(ids);
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
        if (reused > 0)
        {
            prefix!.Value.Cache.CopyTo(prefix.Value.Entry, _cache, reused);
        }
        // The mask above covers the prompt; draft positions repeat its last row, exactly as stepped tokens do.
        int[] all = [.. ids, .. draft.Tokens];
        int[] rows = Enumerable.Range(ids.Length - 1 - reused, draft.Count + 1).ToArray();
        // Batch-invariant kernels: the prompt's rows get the same bits whether its prefix was reused or not.
        var logits = _model.Text.Forward(all.AsSpan(reused), _cache, _memory, _mask, rows, null, cancellationToken, draft, batchInvariant: true);
        PrefillTime = watch.Elapsed;
        _tokens.AddRange(all);
        _draftStart = ids.Length;
        _branchingDraft = draft.IsChain ? null : draft;
        int vocab = logits.Length / rows.Length;
        return rows.Select((_, r) => logits.AsSpan(r * vocab, vocab).ToArray()).ToArray();
    }

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
        EnsureNoBranches();
        int[] lastRow = [0];
        var logits = _model.Text.Forward([tokenId], _cache, _memory, _mask, lastRow, null, cancellationToken);
        _tokens.Add(tokenId);
        return logits;
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
        EnsureNoBranches();
        int[] lastRow = [tokenIds.Length - 1];
        var logits = _model.Text.Forward(tokenIds, _cache, _memory, _mask, lastRow, null, cancellationToken);
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
    /// Right after <see cref="PrefillWithDraft(ReadOnlySpan{int}, DraftTree, EncodedImages?, CancellationToken)"/>: keeps
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
            throw new InvalidOperationException("The session does not end with this draft (AcceptDraft belongs right after PrefillWithDraft).");
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
