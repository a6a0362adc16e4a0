using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Model;

/// <summary>
/// Intermediate tensors of one <see cref="VisionEncoder.Encode"/> call, filled when a trace is passed (golden tests,
/// debugging). Layouts: <see cref="PreEncoder"/> [tiles, P, Dv]; <see cref="LocalEncoderOutput"/> and
/// <see cref="GlobalEncoderOutput"/> [tiles·Ppad, Dv] with the padding rows.
/// </summary>
internal sealed class VisionTrace
{
    public float[]? PreEncoder { get; internal set; }
    public float[]? LocalEncoderOutput { get; internal set; }
    public float[]? GlobalEncoderOutput { get; internal set; }
}

/// <summary>
/// The Mllama vision tower (docs/model.md): patch embedding, tile and position embeddings, a local transformer whose
/// inputs at the configured layers are tapped, and a gated global transformer, all over the joint sequence of every
/// tile slot (padded tiles included, as the reference does). Holds nothing per call but its weights and a thread-safe
/// pool of reusable activation buffers (<see cref="ActivationPool"/>): thread-safe.
/// </summary>
internal sealed class VisionEncoder
{
    private readonly VisionWeights _w;
    private readonly ComputeContext _context;
    private readonly ActivationPool _pool;
    private readonly bool _int8Attention;

    /// <param name="int8Attention">Self-attention on int8 dot products (<see cref="AttentionInt8"/>): the int8 path's choice,
    /// taken only where its kernels run; otherwise float32 (<see cref="Attention"/>), which the goldens check.</param>
    internal VisionEncoder(MllamaVisionConfig config, VisionWeights weights, ComputeContext context, ActivationPool pool, bool int8Attention = false)
    {
        _int8Attention = int8Attention && AttentionInt8.IsAccelerated;
        Config = config;
        _w = weights;
        _context = context;
        _pool = pool;
    }

    /// <summary>
    /// Bytes of the large arrays one <see cref="Encode"/> call takes from the activation pool (and gives back, but for
    /// its result): ≈ 0.8 GB for Llama Guard 3 Vision.
    /// </summary>
    internal static long PooledBytesPerEncode(MllamaVisionConfig c)
    {
        long s = (long)c.MaxNumTiles * c.PaddedTokensPerTile, patches = (long)c.MaxNumTiles * c.PatchesPerSide * c.PatchesPerSide;
        long floats = patches * c.NumChannels * c.PatchSize * c.PatchSize // flattened patches
            + patches * c.HiddenSize                                      // patch embeddings
            + s * c.HiddenSize * (7L + c.IntermediateLayersIndices.Count) // stream, block buffers, tapped layers
            + s * c.IntermediateSize                                      // MLP hidden
            + (long)c.MaxNumTiles * c.TokensPerTile * c.VisionOutputDim;  // the assembled features
        return floats * sizeof(float);
    }

    public MllamaVisionConfig Config { get; }

    /// <summary>Features per vision token: Dv·(1 + number of intermediate layers).</summary>
    public int OutputDim => Config.VisionOutputDim;

    /// <summary>
    /// Encodes one image into [MaxNumTiles, TokensPerTile, <see cref="OutputDim"/>] features (tile-major, CLS first in
    /// each tile; final hidden state in dims 0..Dv−1, then the tapped layers interleaved: dim Dv + d·K + k).
    /// </summary>
    public float[] Encode(VisionInput image, CancellationToken cancellationToken = default, VisionTrace? trace = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        Validate(image);
        var c = Config;
        int tiles = c.MaxNumTiles, p = c.TokensPerTile, pp = c.PaddedTokensPerTile, d = c.HiddenSize;
        int s = tiles * pp;

        float[] x = Embed(image);
        if (trace is not null)
        {
            trace.PreEncoder = Unpad(x, tiles, pp, p, d);
        }

        // Only (padding, padding) pairs are masked: padding slots of every tile and all tokens of empty tiles.
        var isPad = new bool[s];
        for (int t = 0; t < tiles; t++)
        {
            for (int i = 0; i < pp; i++)
            {
                isPad[t * pp + i] = !image.AspectRatioMask[t] || i >= p;
            }
        }
        var mask = AttentionMask.PadPairs(isPad);
        var scratch = new BlockScratch(s, d, c.IntermediateSize, _pool);

        var taps = new float[c.IntermediateLayersIndices.Count][];
        for (int layer = 0; layer < _w.LocalLayers.Count; layer++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int k = 0; k < taps.Length; k++)
            {
                if (c.IntermediateLayersIndices[k] == layer)
                {
                    taps[k] = _pool.Clone(x); // the stream entering this layer
                }
            }
            Block(_w.LocalLayers[layer], x, mask, scratch);
        }
        if (trace is not null)
        {
            trace.LocalEncoderOutput = (float[])x.Clone();
        }

        Norm(x, x, _w.LayerNormPostWeight, _w.LayerNormPostBias, LayerNormEps);
        AddTileEmbedding(x, _w.PostTileEmbedding, _w.PostTileGate, image.AspectRatioId, firstToken: 0, tokens: pp);
        foreach (var layer in _w.GlobalLayers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Block(layer, x, mask, scratch);
        }
        if (trace is not null)
        {
            trace.GlobalEncoderOutput = (float[])x.Clone();
        }
        var features = AssembleOutput(x, taps);
        scratch.Return(_pool);
        _pool.Return(x);
        foreach (float[] tap in taps)
        {
            _pool.Return(tap);
        }
        return features;
    }

    /// <summary>nn.LayerNorm's default eps; the vision norms of the reference ignore <c>norm_eps</c> for pre/post.</summary>
    private const float LayerNormEps = 1e-5f;

    private void Validate(VisionInput image)
    {
        var c = Config;
        long expected = (long)c.MaxNumTiles * c.NumChannels * c.ImageSize * c.ImageSize;
        if (image.PixelValues is null || image.PixelValues.Length != expected)
        {
            throw new ModelInputException($"Pixel values hold {image.PixelValues?.Length ?? 0} floats, expected {expected} " +
                $"([{c.MaxNumTiles}, {c.NumChannels}, {c.ImageSize}, {c.ImageSize}]).");
        }
        if (image.AspectRatioId < 0 || image.AspectRatioId > c.MaxAspectRatioId)
        {
            throw new ModelInputException($"Aspect ratio id {image.AspectRatioId} is outside 0..{c.MaxAspectRatioId}.");
        }
        if (image.AspectRatioMask is null || image.AspectRatioMask.Length != c.MaxNumTiles)
        {
            throw new ModelInputException($"The aspect ratio mask must have {c.MaxNumTiles} entries.");
        }
        if (image.NumTiles < 1 || image.NumTiles > c.MaxNumTiles)
        {
            throw new ModelInputException($"An image has {image.NumTiles} tiles, expected 1..{c.MaxNumTiles}.");
        }
    }

    /// <summary>Steps 1–6: patches, pre-tile embedding, CLS, gated positional + tile embedding, LN_pre, zero padding.</summary>
    private float[] Embed(VisionInput image)
    {
        var c = Config;
        int tiles = c.MaxNumTiles, p = c.TokensPerTile, pp = c.PaddedTokensPerTile, d = c.HiddenSize;
        int side = c.PatchesPerSide, patches = side * side, ps = c.PatchSize, img = c.ImageSize, ch = c.NumChannels;
        int patchLen = ch * ps * ps;

        // Conv2d(stride = kernel) as a GEMM over patches flattened in (channel, ky, kx) order, the weight's own layout.
        var flat = _pool.Rent((long)tiles * patches * patchLen);
        for (int t = 0; t < tiles; t++)
        {
            for (int py = 0; py < side; py++)
            {
                for (int px = 0; px < side; px++)
                {
                    int o = ((t * patches) + py * side + px) * patchLen;
                    for (int cc = 0; cc < ch; cc++)
                    {
                        for (int ky = 0; ky < ps; ky++)
                        {
                            int src = ((t * ch + cc) * img + py * ps + ky) * img + px * ps;
                            image.PixelValues.AsSpan(src, ps).CopyTo(flat.AsSpan(o + (cc * ps + ky) * ps, ps));
                        }
                    }
                }
            }
        }
        var patchOut = _pool.Rent((long)tiles * patches * d);
        Gemm.MatMulTransposed(flat, tiles * patches, _w.PatchEmbedding, default, patchOut, _context);
        _pool.Return(flat);

        var x = _pool.Rent((long)tiles * pp * d); // zero-filled: the padding slots stay zero
        for (int t = 0; t < tiles; t++)
        {
            patchOut.AsSpan(t * patches * d, patches * d).CopyTo(x.AsSpan((t * pp + 1) * d));
        }
        _pool.Return(patchOut);
        // The pre-tile embedding reaches the patches only; CLS is inserted after it.
        AddTileEmbedding(x, _w.PreTileEmbedding, _w.PreTileGate, image.AspectRatioId, firstToken: 1, tokens: patches);
        for (int t = 0; t < tiles; t++)
        {
            _w.ClassEmbedding.CopyTo(x.AsSpan(t * pp * d, d));
        }

        var positional = new float[p * d];
        Residual.AddScaled(positional, _w.PositionalEmbedding, 1f - _w.PositionalGate, _context);
        var tileTable = new float[_w.TileEmbedding.Cols];
        _w.TileEmbedding.ReadRow(image.AspectRatioId, tileTable);
        var gatedTile = new float[p * d];
        for (int t = 0; t < tiles; t++)
        {
            var rows = x.AsSpan(t * pp * d, p * d);
            Residual.AddScaled(rows, positional, 1f, _context);
            gatedTile.AsSpan().Clear();
            Residual.AddScaled(gatedTile, tileTable.AsSpan(t * p * d, p * d), _w.PositionalGate, _context);
            Residual.AddScaled(rows, gatedTile, 1f, _context);
            Norm(rows, rows, _w.LayerNormPreWeight, _w.LayerNormPreBias, LayerNormEps);
        }
        return x;
    }

    /// <summary>x[t, firstToken..firstToken+tokens) += gate·table[aspectRatioId][t] for every tile slot t.</summary>
    private void AddTileEmbedding(float[] x, float[] table, float gate, int aspectRatioId, int firstToken, int tokens)
    {
        var c = Config;
        int d = c.HiddenSize, pp = c.PaddedTokensPerTile;
        var gated = new float[d];
        for (int t = 0; t < c.MaxNumTiles; t++)
        {
            gated.AsSpan().Clear();
            Residual.AddScaled(gated, table.AsSpan((aspectRatioId * c.MaxNumTiles + t) * d, d), gate, _context);
            for (int i = firstToken; i < firstToken + tokens; i++)
            {
                Residual.AddScaled(x.AsSpan((t * pp + i) * d, d), gated, 1f, _context);
            }
        }
    }

    /// <summary>One pre-norm transformer block: x += g_attn·Attn(LN1(x)); x += g_ffn·MLP(LN2(x)).</summary>
    private void Block(VisionLayerWeights w, float[] x, AttentionMask mask, BlockScratch s)
    {
        var c = Config;
        int n = s.Tokens, heads = c.AttentionHeads, hd = c.HeadDim;
        Norm(x, s.Normed, w.Norm1Weight, w.Norm1Bias, (float)c.NormEps);
        Gemm.MatMulTransposed(s.Normed, n, w.Wq, s.Q, w.Wk, s.K, w.Wv, s.V, _context);
        if (_int8Attention)
        {
            AttentionInt8.Compute(s.Q, n, s.K, s.V, n, heads, hd, 1f / MathF.Sqrt(hd), mask, s.Attended, _context);
        }
        else
        {
            Attention.Compute(s.Q, n, heads, s.K, s.V, n, heads, hd, 1f / MathF.Sqrt(hd), mask, s.Attended, _context);
        }
        Gemm.MatMulTransposed(s.Attended, n, w.Wo, default, s.Out, _context);
        Residual.AddScaled(x, s.Out, w.AttentionGate, _context);

        Norm(x, s.Normed, w.Norm2Weight, w.Norm2Bias, (float)c.NormEps);
        Gemm.MatMulTransposed(s.Normed, n, w.Fc1, w.Fc1Bias, s.Hidden, _context);
        Gemm.MatMulTransposedGelu(s.Hidden, n, w.Fc2, w.Fc2Bias, s.Out, _context); // fc2(GELU(hidden)), GELU applied while packing
        Residual.AddScaled(x, s.Out, w.MlpGate, _context);
    }

    /// <summary>LayerNorm of every row of <paramref name="x"/> (rows of weight.Length values).</summary>
    private void Norm(ReadOnlySpan<float> x, Span<float> y, float[] weight, float[] bias, float eps) =>
        LayerNorm.Apply(x, x.Length / weight.Length, weight.Length, weight, bias, eps, y, _context);

    /// <summary>Drops the padding slots: [tiles·Ppad, D] → [tiles, P, D].</summary>
    private static float[] Unpad(float[] x, int tiles, int pp, int p, int d)
    {
        var result = new float[tiles * p * d];
        for (int t = 0; t < tiles; t++)
        {
            x.AsSpan(t * pp * d, p * d).CopyTo(result.AsSpan(t * p * d));
        }
        return result;
    }

    /// <summary>Steps 12–14: unpad and append the tapped layers, interleaved per channel.</summary>
    private float[] AssembleOutput(float[] final, float[][] taps)
    {
        var c = Config;
        int tiles = c.MaxNumTiles, p = c.TokensPerTile, pp = c.PaddedTokensPerTile, d = c.HiddenSize, k = taps.Length;
        int outDim = d * (1 + k);
        var result = _pool.Rent((long)tiles * p * outDim);
        for (int t = 0; t < tiles; t++)
        {
            for (int i = 0; i < p; i++)
            {
                int row = (t * pp + i) * d;
                var dst = result.AsSpan((t * p + i) * outDim, outDim);
                final.AsSpan(row, d).CopyTo(dst);
                for (int j = 0; j < k; j++)
                {
                    var tap = taps[j];
                    for (int ch = 0; ch < d; ch++)
                    {
                        dst[d + ch * k + j] = tap[row + ch];
                    }
                }
            }
        }
        return result;
    }

    /// <summary>Activation buffers reused by every block of one encode call (from the pool, given back after it).</summary>
    private sealed class BlockScratch(int tokens, int dim, int hidden, ActivationPool pool)
    {
        public int Tokens { get; } = tokens;
        public float[] Normed { get; } = pool.Rent((long)tokens * dim);
        public float[] Q { get; } = pool.Rent((long)tokens * dim);
        public float[] K { get; } = pool.Rent((long)tokens * dim);
        public float[] V { get; } = pool.Rent((long)tokens * dim);
        public float[] Attended { get; } = pool.Rent((long)tokens * dim);
        public float[] Out { get; } = pool.Rent((long)tokens * dim);
        public float[] Hidden { get; } = pool.Rent((long)tokens * hidden);

        public void Return(ActivationPool to)
        {
            foreach (float[] buffer in new[] { Normed, Q, K, V, Attended, Out, Hidden })
            {
                to.Return(buffer);
            }
        }
    }
}
