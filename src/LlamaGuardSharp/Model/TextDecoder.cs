using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Model;

/// <summary>Hidden states of a decoder forward, filled when passed in (golden tests, debugging).</summary>
internal sealed class TextTrace
{
    /// <summary>Entry i &lt; layers: the input of layer i, [tokens, D]; last entry: after the final RMSNorm.</summary>
    public List<float[]> HiddenStates { get; } = [];
}

/// <summary>
/// The Mllama text decoder (docs/model.md): Llama 3 self-attention layers with llama3-scaled RoPE and GQA, interleaved with
/// gated cross-attention layers over the vision memory; cross-attention layers are skipped when there is no image.
/// Stateless apart from its weights (per-request state lives in <see cref="KvCache"/> and
/// <see cref="CrossAttentionMemory"/>): thread-safe.
/// </summary>
internal sealed class TextDecoder
{
    private readonly TextWeights _w;
    private readonly ComputeContext _context;
    private readonly RotaryEmbedding _rope;
    private readonly CrossAttentionMasking _masking;
    private readonly float _eps;
    private readonly ActivationPool? _pool;

    /// <param name="pool">Where pooled KV caches (<see cref="CreatePooledCache"/>) and a forward pass's layer buffers
    /// come from and go back to; null: plain allocations.</param>
    internal TextDecoder(MllamaTextConfig config, TextWeights weights, ComputeContext context, CrossAttentionMasking masking,
        ActivationPool? pool = null)
    {
        Config = config;
        _pool = pool;
        _w = weights;
        _context = context;
        _masking = masking;
        _rope = new RotaryEmbedding(config.HeadDim, config.RopeTheta, config.RopeScaling);
        _eps = (float)config.RmsNormEps;
    }

    public MllamaTextConfig Config { get; }

    /// <summary>Rows of the output head (logits per position).</summary>
    public int VocabSize => _w.LmHead.Rows;

    /// <summary>Rows of the embedding table (valid input ids are 0..EmbeddingRows−1).</summary>
    public int EmbeddingRows => _w.Embedding.Rows;

    private int KvDim => Config.NumKeyValueHeads * Config.HeadDim;

    /// <summary>A KV cache sized for <paramref name="capacity"/> tokens.</summary>
    public KvCache CreateCache(int capacity) => new(LayersWithCache(), capacity, KvDim);

    /// <summary>The most bytes of KV caches and layer buffers the pool keeps: <see cref="PooledTokens"/> tokens' worth
    /// (the model adds one image's cross-attention memory).</summary>
    internal static long PooledBytes(MllamaTextConfig c) =>
        PooledTokens * (KvCache.BytesPerToken(c) + 2L * (c.HiddenSize + c.NumAttentionHeads * c.HeadDim + c.IntermediateSize) * sizeof(float));

    /// <summary>The pool keeps the KV cache and layer buffers of prompts up to this long (≈ 450 MB at real size).</summary>
    internal const int PooledTokens = 1024;

    /// <summary>Bytes of KV caches and layer buffers kept for reuse now.</summary>
    internal long RetainedActivationBytes => _pool?.KeptBytes ?? 0;

    /// <summary>A KV cache whose arrays come from the model's pool; hand them back with <see cref="KvCache.Release"/>.</summary>
    internal KvCache CreatePooledCache(int capacity) => new(LayersWithCache(), capacity, KvDim, _pool);

    /// <summary>Per decoder layer, whether it is a self-attention layer (the ones with a KV cache).</summary>
    private bool[] LayersWithCache() =>
        Enumerable.Range(0, Config.NumHiddenLayers).Select(i => !Config.IsCrossAttentionLayer(i)).ToArray();

    /// <summary>
    /// Computes every cross-attention layer's keys (k_proj then per-head k_norm) and values from the projected vision
    /// states [images · tiles · tokensPerTile, D]. The arrays come from the pool; <see cref="CrossAttentionMemory.Release"/>
    /// hands them back.
    /// </summary>
    public CrossAttentionMemory BuildCrossAttentionMemory(ReadOnlySpan<float> crossAttentionStates, int images, int tilesPerImage, int tokensPerTile)
    {
        int d = Config.HiddenSize, hd = Config.HeadDim, n = images * tilesPerImage * tokensPerTile;
        if (crossAttentionStates.Length != (long)n * d)
        {
            throw new ModelInputException($"Cross-attention states hold {crossAttentionStates.Length} values, expected {n}×{d}.");
        }
        var keys = new float[]?[Config.NumHiddenLayers];
        var values = new float[]?[Config.NumHiddenLayers];
        for (int i = 0; i < _w.Layers.Count; i++)
        {
            if (_w.Layers[i] is CrossAttentionLayerWeights layer)
            {
                var k = Rent((long)n * KvDim);
                var v = Rent((long)n * KvDim);
                Gemm.MatMulTransposed(crossAttentionStates, n, layer.Wk, k, layer.Wv, v, _context);
                Rms(k, k, layer.KNorm);
                keys[i] = k;
                values[i] = v;
            }
        }
        return new CrossAttentionMemory(keys, values, images, tilesPerImage, tokensPerTile, _pool);
    }

    /// <summary>
    /// Runs <paramref name="batch"/> through the decoder, appending its keys/values to <paramref name="cache"/> (which
    /// must hold exactly the <see cref="DecoderBatch.Start"/> tokens before it), and returns the logits of its
    /// <see cref="DecoderBatch.LogitRows"/>, [rows, VocabSize]. <paramref name="trace"/>, when given, receives every
    /// layer's input and the final normed states.
    /// </summary>
    internal float[] Forward(DecoderBatch batch, KvCache cache, TextTrace? trace = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(cache);
        if (cache.Length != batch.Start)
        {
            throw new ArgumentException($"The batch continues from position {batch.Start}, the cache holds {cache.Length} tokens.", nameof(batch));
        }
        cache.EnsureRoom(batch.Count);
        float[] h = Embed(batch.Ids);
        using var scratch = new LayerScratch(batch.Count, Config, _pool);
        var rope = _rope.Tables(batch.Positions);
        for (int layer = 0; layer < _w.Layers.Count; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            trace?.HiddenStates.Add((float[])h.Clone());
            switch (_w.Layers[layer])
            {
                case SelfAttentionLayerWeights self:
                    SelfAttentionLayer(self, h, batch, rope, cache.Keys(layer), cache.Values(layer), scratch);
                    break;
                case CrossAttentionLayerWeights cross when batch.Memory is not null:
                    CrossAttentionLayer(cross, h, batch, batch.Memory.KeysOf(layer), batch.Memory.ValuesOf(layer), scratch);
                    break;
                default:
                    break; // text-only: cross-attention layers are the identity
            }
        }
        cache.Advance(batch.Count);
        if (trace is not null)
        {
            var normed = new float[h.Length];
            Rms(h, normed, _w.FinalNorm);
            trace.HiddenStates.Add(normed);
        }
        return Logits(h, batch.LogitRows);
    }

    /// <summary>The embedding rows of <paramref name="ids"/>, [ids, D].</summary>
    private float[] Embed(ReadOnlySpan<int> ids)
    {
        int d = Config.HiddenSize;
        var h = new float[ids.Length * d];
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i] < 0 || ids[i] >= _w.Embedding.Rows)
            {
                throw new ModelInputException($"Token id {ids[i]} at index {i} is outside the embedding table (0..{_w.Embedding.Rows - 1}).");
            }
            _w.Embedding.ReadRow(ids[i], h.AsSpan(i * d, d));
        }
        return h;
    }

    /// <summary>The output head on the final RMSNorm of the hidden rows <paramref name="rows"/>, [rows, VocabSize].</summary>
    private float[] Logits(float[] h, ReadOnlySpan<int> rows)
    {
        int d = Config.HiddenSize;
        var selected = new float[rows.Length * d];
        for (int r = 0; r < rows.Length; r++)
        {
            Rms(h.AsSpan(rows[r] * d, d), selected.AsSpan(r * d, d), _w.FinalNorm);
        }
        var logits = new float[(long)rows.Length * VocabSize];
        if (rows.Length > 0)
        {
            Gemm.MatMulTransposed(selected, rows.Length, _w.LmHead, default, logits, _context);
        }
        return logits;
    }

    private void SelfAttentionLayer(SelfAttentionLayerWeights w, float[] h, DecoderBatch batch, RopeTables rope, float[] cacheK, float[] cacheV,
        LayerScratch s)
    {
        var c = Config;
        int hd = c.HeadDim, kvDim = KvDim, n = batch.Count, start = batch.Start;
        bool batchInvariant = batch.BatchInvariant;
        Rms(h, s.Normed, w.InputNorm);
        var k = cacheK.AsSpan(start * kvDim, n * kvDim);
        var v = cacheV.AsSpan(start * kvDim, n * kvDim);
        Gemm.MatMulTransposed(s.Normed, n, w.Wq, s.Q, w.Wk, k, w.Wv, v, _context, batchInvariant);
        _rope.Apply(s.Q, c.NumAttentionHeads, rope);
        _rope.Apply(k, c.NumKeyValueHeads, rope);
        int keys = start + n;
        Attention.Compute(s.Q, n, c.NumAttentionHeads, cacheK.AsSpan(0, keys * kvDim), cacheV.AsSpan(0, keys * kvDim), keys,
            c.NumKeyValueHeads, hd, 1f / MathF.Sqrt(hd), batch.SelfMask, s.Attended, _context, batchInvariant);
        Gemm.MatMulTransposed(s.Attended, n, w.Wo, default, s.Out, _context, batchInvariant);
        Residual.AddScaled(h, s.Out, 1f, _context);
        Mlp(w.Mlp, h, n, s, batchInvariant);
        Residual.AddScaled(h, s.Out, 1f, _context);
    }

    private void CrossAttentionLayer(CrossAttentionLayerWeights w, float[] h, DecoderBatch batch, float[] keysC, float[] valuesC, LayerScratch s)
    {
        var c = Config;
        var (memory, mask) = (batch.Memory!, batch.Mask!);
        int hd = c.HeadDim, d = c.HiddenSize, blocks = mask.BlocksPerRow, n = batch.Count;
        bool batchInvariant = batch.BatchInvariant;
        var positions = batch.Positions;
        var allowed = new bool[n * blocks];
        var seesImage = new bool[n];
        for (int i = 0; i < n; i++)
        {
            int row = Math.Min(positions[i], mask.Rows - 1);
            seesImage[i] = mask.RowSeesImage(row);
            var dst = allowed.AsSpan(i * blocks, blocks);
            if (seesImage[i])
            {
                mask.Row(row).CopyTo(dst);
            }
            else if (_masking == CrossAttentionMasking.HuggingFace)
            {
                dst.Fill(true); // HF turns an all-masked row into an all-zero bias: the row attends to every vision token
            }
            // Meta: the row stays all-false, which the attention kernel answers with a zero output row.
        }

        Rms(h, s.Normed, w.InputNorm);
        Gemm.MatMulTransposed(s.Normed, n, w.Wq, default, s.Q, _context, batchInvariant);
        Rms(s.Q, s.Q, w.QNorm);
        Attention.Compute(s.Q, n, c.NumAttentionHeads, keysC, valuesC, memory.Keys, c.NumKeyValueHeads, hd, 1f / MathF.Sqrt(hd),
            AttentionMask.KeyBlocks(allowed, blocks, memory.TokensPerTile), s.Attended, _context, batchInvariant);
        Gemm.MatMulTransposed(s.Attended, n, w.Wo, default, s.Out, _context, batchInvariant);
        Residual.AddScaled(h, s.Out, w.AttentionGate, _context);

        Mlp(w.Mlp, h, n, s, batchInvariant);
        for (int i = 0; i < n; i++)
        {
            if (!seesImage[i])
            {
                s.Out.Slice(i * d, d).Clear(); // full_text_row_masked_out_mask (HF and Meta alike)
            }
        }
        Residual.AddScaled(h, s.Out, w.MlpGate, _context);
    }

    private float[] Rent(long length) => _pool is null ? new float[length] : _pool.Rent(length);

    /// <summary>RMSNorm of every row of <paramref name="x"/> (rows of weight.Length values).</summary>
    private void Rms(ReadOnlySpan<float> x, Span<float> y, float[] weight) =>
        RmsNorm.Apply(x, x.Length / weight.Length, weight.Length, weight, _eps, y, _context);

    /// <summary>s.Out = down(SiLU(gate·b) ⊙ up·b) with b = RMS(h).</summary>
    private void Mlp(DecoderMlpWeights w, float[] h, int n, LayerScratch s, bool batchInvariant)
    {
        Rms(h, s.Normed, w.Norm);
        Gemm.MatMulTransposed(s.Normed, n, w.Gate, s.Gate, w.Up, s.Up, _context, batchInvariant);
        SwiGlu.Apply(s.Gate, s.Up, s.Gate, _context);
        Gemm.MatMulTransposed(s.Gate, n, w.Down, default, s.Out, _context, batchInvariant);
    }

    /// <summary>
    /// Activation buffers for one forward call, reused by every layer. With a pool the arrays are rented for a multiple
    /// of <see cref="ActivationPool.RowStep"/> rows (so prompts of similar length reuse them) and handed back on
    /// <see cref="Dispose"/>; the properties are exactly n rows long either way.
    /// </summary>
    /// <remarks>Why pooled: a first write to memory the process has not used is slow on a virtual machine (see
    /// <see cref="ActivationPool"/>), and every layer writes its q, k, v and MLP rows.</remarks>
    private sealed class LayerScratch : IDisposable
    {
        private readonly float[] _normed, _q, _attended, _out, _gate, _up;
        private readonly ActivationPool? _pool;
        private readonly int _n, _d, _qDim, _inter;

        public LayerScratch(int n, MllamaTextConfig c, ActivationPool? pool)
        {
            (_n, _d, _qDim, _inter, _pool) = (n, c.HiddenSize, c.NumAttentionHeads * c.HeadDim, c.IntermediateSize, pool);
            // Short passes (decode steps) keep exact sizes: rounding one row up to 64 would only make them larger (at
            // real size they are below the pool's minimum length and not pooled anyway).
            long rows = pool is null || n < ActivationPool.RowStep ? n : ActivationPool.RoundRows(n);
            _normed = Rent(rows * _d);
            _q = Rent(rows * _qDim);
            _attended = Rent(rows * _qDim);
            _out = Rent(rows * _d);
            _gate = Rent(rows * _inter);
            _up = Rent(rows * _inter);
        }

        public Span<float> Normed => _normed.AsSpan(0, _n * _d);

        public Span<float> Q => _q.AsSpan(0, _n * _qDim);

        public Span<float> Attended => _attended.AsSpan(0, _n * _qDim);

        public Span<float> Out => _out.AsSpan(0, _n * _d);

        public Span<float> Gate => _gate.AsSpan(0, _n * _inter);

        public Span<float> Up => _up.AsSpan(0, _n * _inter);

        public void Dispose()
        {
            foreach (float[] array in (float[][])[_normed, _q, _attended, _out, _gate, _up])
            {
                _pool?.Return(array);
            }
        }

        private float[] Rent(long length) => _pool is null ? new float[length] : _pool.Rent(length);
    }
}
