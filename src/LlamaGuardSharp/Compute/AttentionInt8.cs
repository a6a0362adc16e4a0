using System.Numerics.Tensors;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Multi-head attention (one KV head per query head) with both products on AVX-VNNI, for the vision encoder of the int8
/// path (<see cref="Inference.ComputePrecision.Int8"/>), where the 6432 × 6432 self-attention is about half of the
/// encoder's work. Same contract as <see cref="Attention.Compute"/> (token-major layouts, masks, a query that sees no key
/// gets a zero row); the arithmetic, per head h:
/// <list type="number">
/// <item>K is smoothed: k̄ = mean over keys, K' = K − k̄. Softmax is invariant under it (q·k̄ is the same for every key of
/// a query), and it removes the offset that a shared bias puts on every key, which would otherwise stretch every key's
/// int8 scale.</item>
/// <item>Q and K' quantized per row (per token and head), symmetric, round half to even; the scores
/// S = (q_u − 128)·k'_q · s_q · s_k · scale · log₂e are exact int32 dot products (the unsigned offset removed with the
/// row sums of K', as in <see cref="GemmInt8"/>), in base-2 units.</item>
/// <item>P = 2^(S − rowmax) ∈ [0, 1] (≈ 1 at the maximum, exactly 0 at hidden keys; 2^x by a cubic good to 7.6e-5, ample
/// for 8 bits), quantized to unsigned bytes u = min(⌊255·P + δ⌋, 255) with a fixed low-discrepancy dither δ ∈ [0, 1):
/// E[u] = 255·P, so the many small probabilities of a long row are not all rounded away (plain rounding would drop
/// every P below 1/510 — over 6432 keys that can be most of a row's mass); the maximum gets 254 or 255.</item>
/// <item>V quantized per channel (over all keys), symmetric; out = (Σ_j u_j · v_q[j]) · s_v / Σ_j u_j: exact int32 sums,
/// normalised by the sum of the very weights used, so each output is a convex combination of the quantized values.</item>
/// </list>
/// <para>Every output element is computed by one work item from exact integer sums and a fixed sequence of float
/// operations, so results are bit-identical for every thread count. <see cref="Reference"/> is the scalar statement of
/// the same arithmetic, operation for operation.</para>
/// </summary>
internal static unsafe class AttentionInt8
{
    /// <summary>Query rows per sub-block: their score rows (4 × keys floats) stay in L2 beside the head's K and V.</summary>
    private const int RowsPerStep = 4;

    /// <summary>Query rows per work item (a multiple of <see cref="RowsPerStep"/>).</summary>
    private const int RowsPerItem = 32;

    /// <summary>Length of the dither sequence's period; row i starts it at offset (i · <see cref="DitherStride"/>) mod period.</summary>
    private const int DitherPeriod = 1024;

    private const int DitherStride = 389;

    private const float Log2E = 1.44269504088896341f;

    /// <summary>Whether the VNNI kernels run here (the model takes the int8 path only where they do).</summary>
    public static bool IsAccelerated => AvxVnni.IsSupported && Avx512F.IsSupported && Avx512BW.IsSupported;

    /// <summary>out[i, h, :] = softmax-weighted sum of v[:, h, :] (see the class summary), q/k/v/out token-major.</summary>
    public static void Compute(
        ReadOnlySpan<float> q, int queries, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int keys, int heads, int headDim,
        float scale, AttentionMask mask, Span<float> output, ComputeContext context)
    {
        Attention.CheckArguments(q.Length, queries, heads, k.Length, v.Length, keys, heads, headDim, mask, output.Length, context);
        if (keys > GemmInt8.MaxK)
        {
            throw new ArgumentException($"{keys} keys exceed the int8 attention's {GemmInt8.MaxK} (int32 sums).", nameof(keys));
        }
        if (queries == 0)
        {
            return;
        }
        if (keys == 0)
        {
            output[..(queries * heads * headDim)].Clear();
            return;
        }
        if (!IsAccelerated)
        {
            Reference(q, queries, k, v, keys, heads, headDim, scale, mask, output);
            return;
        }
        long start = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
        var layout = new Layout(queries, keys, heads, headDim, context.Threads);
        ScratchBuffer buffer = context.Scratch.Rent((layout.Bytes + 3) / 4);
        try
        {
            var operands = new Operands((byte*)buffer.Pointer, layout);
            fixed (float* pq = q, pk = k, pv = v, po = output)
            {
                if (!Prepare(pq, pk, pv, operands, scale, context))
                {
                    // A non-finite value in Q, K or V: the fp32 path would give NaN rows too; NaN everywhere is the honest
                    // answer (the model turns non-finite logits into ModelOutputException, never a verdict).
                    output[..(queries * heads * headDim)].Fill(float.NaN);
                    return;
                }
                Attend(operands, mask, po, context);
            }
        }
        finally
        {
            context.Scratch.Return(buffer);
        }
        context.Profile?.Record("attention int8", $"queries={queries} keys={keys} heads={heads} d={headDim}",
            4.0 * queries * keys * heads * headDim, start);
    }

    /// <summary>Sizes of the quantized operands (one scratch buffer holds them all).</summary>
    private readonly record struct Layout(int Queries, int Keys, int Heads, int HeadDim, int Workers)
    {
        /// <summary>Head dimension padded to the VNNI group of 4 (K of the score product).</summary>
        public int HeadDimPadded => Int8Weights.PaddedCols(HeadDim);

        /// <summary>Keys padded to 8 (the score product's panels).</summary>
        public int KeysPanelled => Int8Weights.PaddedRows(Keys);

        /// <summary>Keys padded to 16: the stride of score and probability rows (whole vectors) and the K of P·V.</summary>
        public int KeyStride => (Keys + 15) & ~15;

        /// <summary>Head dimension padded to 8 (the P·V product's panels).</summary>
        public int HeadDimPanelled => Int8Weights.PaddedRows(HeadDim);

        public long QBytes => (long)Heads * Queries * HeadDimPadded;
        public long KBytes => (long)Heads * KeysPanelled * HeadDimPadded;
        public long VBytes => (long)Heads * HeadDimPanelled * KeyStride;

        /// <summary>One worker's step buffers: <see cref="RowsPerStep"/> score rows, their probability bytes and 1/Σu.</summary>
        public long WorkspaceBytes => Align(RowsPerStep * (4L * KeyStride + KeyStride) + 4L * RowsPerStep);

        public long Bytes => Align(QBytes) + Align(KBytes) + Align(VBytes) + Workers * WorkspaceBytes
            + 4L * (Heads * (long)Queries + 2L * Heads * KeysPanelled + Heads * (long)HeadDimPanelled + HeadDimPanelled + DitherPeriod + KeyStride);

        public static long Align(long bytes) => (bytes + 63) & ~63L;
    }

    /// <summary>Pointers into the scratch buffer: per head, Q bytes, K′ panels with scales and row sums, V panels with scales.</summary>
    private readonly struct Operands
    {
        public Operands(byte* p, Layout layout)
        {
            Layout = layout;
            QBytes = p; p += Layout.Align(layout.QBytes);
            KPanels = (sbyte*)p; p += Layout.Align(layout.KBytes);
            VPanels = (sbyte*)p; p += Layout.Align(layout.VBytes);
            Workspaces = p; p += layout.Workers * layout.WorkspaceBytes;
            QScales = (float*)p; p += 4L * layout.Heads * layout.Queries;
            KScales = (float*)p; p += 4L * layout.Heads * layout.KeysPanelled;
            KRowSums = (int*)p; p += 4L * layout.Heads * layout.KeysPanelled;
            VScales = (float*)p; p += 4L * layout.Heads * layout.HeadDimPanelled;
            ZeroSums = (int*)p; p += 4L * layout.HeadDimPanelled;
            Dither = (float*)p;
        }

        public Layout Layout { get; }
        public byte* QBytes { get; }
        public sbyte* KPanels { get; }
        public sbyte* VPanels { get; }

        /// <summary>One step workspace per worker thread (<see cref="Layout.WorkspaceBytes"/> each).</summary>
        public byte* Workspaces { get; }
        public float* QScales { get; }
        public float* KScales { get; }
        public int* KRowSums { get; }
        public float* VScales { get; }
        public int* ZeroSums { get; }
        public float* Dither { get; }

        public byte* Q(int h) => QBytes + (long)h * Layout.Queries * Layout.HeadDimPadded;
        public sbyte* K(int h) => KPanels + (long)h * Layout.KeysPanelled * Layout.HeadDimPadded;
        public sbyte* V(int h) => VPanels + (long)h * Layout.HeadDimPanelled * Layout.KeyStride;
    }

    /// <summary>The dither δ_t = frac((t + ½)·φ) (golden-ratio sequence: evenly spread over [0, 1) at every length).</summary>
    private static float Dither(int t) => MathF.Min((float)(((t + 0.5) * 0.6180339887498949) % 1.0), 0.99999994f); // < 1 after rounding

    /// <summary>Where row i's dither starts in the sequence (rows start at different places so no key is always rounded up).</summary>
    private static int DitherOffset(int query) => (int)((long)query * DitherStride % DitherPeriod);

    /// <summary>Quantizes Q, K′ and V per head; false when one of them holds a non-finite value.</summary>
    private static bool Prepare(float* q, float* k, float* v, Operands o, float scale, ComputeContext context)
    {
        Layout l = o.Layout;
        int hd = l.HeadDim, hdp = l.HeadDimPadded, heads = l.Heads, keys = l.Keys;
        int finite = 1;
        nint qp = (nint)q, kp = (nint)k, vp = (nint)v;
        new Span<int>(o.ZeroSums, l.HeadDimPanelled).Clear();
        for (int t = 0; t < DitherPeriod + l.KeyStride; t++)
        {
            o.Dither[t] = Dither(t);
        }
        // One item per head: mean of K, then every key row (and its padding), V's channel scales and panels; then the
        // query rows in chunks.
        int queryChunks = (l.Queries + 255) / 256;
        context.For(heads + heads * queryChunks, item =>
        {
            if (item < heads)
            {
                if (!PrepareKeysAndValues((float*)kp, (float*)vp, item, o))
                {
                    Volatile.Write(ref finite, 0);
                }
                return;
            }
            int h = (item - heads) / queryChunks, chunk = (item - heads) % queryChunks;
            int i1 = Math.Min(l.Queries, (chunk + 1) * 256);
            float factor = scale * Log2E;
            for (int i = chunk * 256; i < i1; i++)
            {
                float s = Int8Activations.QuantizeRow((float*)qp + ((long)i * heads + h) * hd, hd, o.Q(h) + (long)i * hdp);
                if (!float.IsFinite(s))
                {
                    Volatile.Write(ref finite, 0);
                }
                o.QScales[(long)h * l.Queries + i] = s * factor;
            }
        });
        return finite == 1;
    }

    private static bool PrepareKeysAndValues(float* k, float* v, int h, Operands o)
    {
        Layout l = o.Layout;
        int hd = l.HeadDim, hdp = l.HeadDimPadded, heads = l.Heads, keys = l.Keys, kpan = l.KeysPanelled;
        long rowStride = (long)heads * hd;
        Span<float> mean = stackalloc float[hd];
        Span<float> smoothed = stackalloc float[hd];
        Span<float> inverse = stackalloc float[hd];
        Span<sbyte> quantized = stackalloc sbyte[4 * hd];
        mean.Clear();
        // K′ = K − mean over keys (column sums in key order: elementwise adds, the reference's floats exactly).
        for (int j = 0; j < keys; j++)
        {
            TensorPrimitives.Add(mean, new ReadOnlySpan<float>(k + j * rowStride + h * hd, hd), mean);
        }
        TensorPrimitives.Multiply(mean, 1f / keys, mean);
        if (!TensorPrimitives.IsFiniteAll<float>(mean))
        {
            return false;
        }
        sbyte* kh = o.K(h);
        float* ks = o.KScales + (long)h * kpan;
        int* kr = o.KRowSums + (long)h * kpan;
        new Span<sbyte>(kh, kpan * hdp).Clear();
        new Span<float>(ks + keys, kpan - keys).Clear();
        new Span<int>(kr + keys, kpan - keys).Clear();
        for (int j = 0; j < keys; j++)
        {
            TensorPrimitives.Subtract(new ReadOnlySpan<float>(k + j * rowStride + h * hd, hd), mean, smoothed);
            float max = MathF.Abs(TensorPrimitives.MaxMagnitude(smoothed));
            ks[j] = max / 127f;
            fixed (float* ps = smoothed)
            fixed (sbyte* pq = quantized)
            {
                QuantizeSigned(ps, hd, max == 0 ? 0 : 127f / max, null, pq);
                // Key j's bytes, 4 channels at a time, into its lane of the VNNI panel (Int8Weights.Offset(j, d, hdp)).
                sbyte* lane = kh + (long)(j >> 3) * hdp * 8 + (j & 7) * 4;
                int sum = 0;
                for (int d = 0; d < hd; d += 4)
                {
                    int four = d + 4 <= hd ? *(int*)(pq + d) : Tail(pq + d, hd - d);
                    *(int*)(lane + d * 8) = four;
                }
                for (int d = 0; d < hd; d++)
                {
                    sum += pq[d];
                }
                kr[j] = sum;
            }
        }

        // V: one scale per channel over all keys.
        float* vs = o.VScales + (long)h * l.HeadDimPanelled;
        var scales = new Span<float>(vs, l.HeadDimPanelled);
        scales.Clear();
        for (int j = 0; j < keys; j++)
        {
            TensorPrimitives.MaxMagnitude(scales[..hd], new ReadOnlySpan<float>(v + j * rowStride + h * hd, hd), scales[..hd]);
        }
        TensorPrimitives.Abs(scales[..hd], scales[..hd]);
        if (!TensorPrimitives.IsFiniteAll<float>(scales))
        {
            return false;
        }
        for (int d = 0; d < hd; d++)
        {
            inverse[d] = vs[d] == 0 ? 0 : 127f / vs[d];
            vs[d] /= 127f;
        }
        sbyte* vh = o.V(h);
        int stride = l.KeyStride;
        new Span<sbyte>(vh, l.HeadDimPanelled * stride).Clear();
        fixed (float* pi = inverse)
        fixed (sbyte* pq = quantized)
        {
            for (int j0 = 0; j0 < keys; j0 += 4)
            {
                int group = Math.Min(4, keys - j0);
                for (int r = 0; r < group; r++)
                {
                    QuantizeSigned(v + (j0 + r) * rowStride + h * hd, hd, 0, pi, pq + r * hd);
                }
                // Keys j0..j0+3 of channel d are the 4 bytes at Int8Weights.Offset(d, j0, stride).
                for (int d = 0; d < hd; d++)
                {
                    sbyte* cell = vh + Int8Weights.Offset(d, j0, stride);
                    for (int r = 0; r < group; r++)
                    {
                        cell[r] = pq[r * hd + d];
                    }
                }
            }
        }
        return true;
    }

    /// <summary>The last 1–3 bytes of a row as the low bytes of an int (the rest zero: padding).</summary>
    private static int Tail(sbyte* bytes, int count)
    {
        int value = 0;
        for (int i = 0; i < count; i++)
        {
            value |= (byte)bytes[i] << (8 * i);
        }
        return value;
    }

    /// <summary>
    /// q = clamp(round_even(x · inverse), ±127) with one <paramref name="inverse"/> for the row, or one per element from
    /// <paramref name="inverses"/>: the arithmetic of <see cref="Int8Weights.QuantizeRow"/>, so the reference's bytes are these.
    /// </summary>
    private static void QuantizeSigned(float* x, int count, float inverse, float* inverses, sbyte* q)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            Vector512<float> single = Vector512.Create(inverse);
            for (; i + 16 <= count; i += 16)
            {
                Vector512<float> scaled = Vector512.Load(x + i) * (inverses == null ? single : Vector512.Load(inverses + i));
                Vector512<int> rounded = Avx512F.ConvertToVector512Int32(scaled); // round half to even (MXCSR default)
                rounded = Vector512.Min(Vector512.Max(rounded, Vector512.Create(-127)), Vector512.Create(127));
                Avx512F.ConvertToVector128SByte(rounded).Store(q + i);
            }
        }
        for (; i < count; i++)
        {
            q[i] = (sbyte)Math.Clamp(MathF.Round(x[i] * (inverses == null ? inverse : inverses[i])), -127f, 127f);
        }
    }

    /// <summary>Scores, softmax and P·V for blocks of query rows of one head per work item.</summary>
    private static void Attend(Operands o, AttentionMask mask, float* output, ComputeContext context)
    {
        Layout l = o.Layout;
        int blocks = (l.Queries + RowsPerItem - 1) / RowsPerItem;
        int stride = l.KeyStride;
        nint outp = (nint)output;
        // At most Threads items run at once (ComputeContext.For), so a stack of Threads workspaces never runs dry; carved
        // from the call's one buffer, the steps allocate nothing.
        var free = new ConcurrentStack<int>(Enumerable.Range(0, l.Workers));
        context.For(l.Heads * blocks, item =>
        {
            int h = item / blocks, block = item % blocks;
            int q0 = block * RowsPerItem, q1 = Math.Min(l.Queries, q0 + RowsPerItem);
            if (!free.TryPop(out int slot))
            {
                throw new InvalidOperationException("More attention items ran at once than the context has threads.");
            }
            try
            {
                float* scores = (float*)(o.Workspaces + slot * l.WorkspaceBytes);
                byte* probabilities = (byte*)(scores + (long)RowsPerStep * stride);
                float* inverseSums = (float*)(probabilities + (long)RowsPerStep * stride);
                for (int i0 = q0; i0 < q1; i0 += RowsPerStep)
                {
                    int rows = Math.Min(RowsPerStep, q1 - i0);
                    Step(o, h, i0, rows, mask, scores, probabilities, inverseSums, (float*)outp);
                }
            }
            finally
            {
                free.Push(slot);
            }
        });
    }

    private static void Step(Operands o, int h, int i0, int rows, AttentionMask mask, float* scores, byte* probabilities,
        float* inverseSums, float* output)
    {
        Layout l = o.Layout;
        int stride = l.KeyStride, hdp = l.HeadDimPadded;
        // 1. Scores in base-2 units: rows × keys, from the query bytes against the K′ panels.
        var scoreStore = new ScoreEpilogue(scores, stride, o.KScales + (long)h * l.KeysPanelled);
        int keyPanels = l.KeysPanelled / 8;
        for (int p0 = 0; p0 < keyPanels; p0 += 3)
        {
            GemmInt8.Tile(o.Q(h) + (long)i0 * hdp, 0, rows, hdp, o.K(h), p0, Math.Min(3, keyPanels - p0), l.Keys,
                o.KRowSums + (long)h * l.KeysPanelled, ref scoreStore);
        }
        // 2. Mask, exponentials, probability bytes.
        for (int r = 0; r < rows; r++)
        {
            float* row = scores + (long)r * stride;
            for (int j = l.Keys; j < stride; j++)
            {
                row[j] = float.NegativeInfinity;
            }
            mask.HideInvisible(i0 + r, 0, new Span<float>(row, l.Keys));
            inverseSums[r] = Probabilities(row, stride, o.QScales[(long)h * l.Queries + i0 + r], o.Dither + DitherOffset(i0 + r),
                probabilities + (long)r * stride);
        }
        // 3. out = P·V, normalised by Σu and dequantized per channel.
        var outStore = new OutputEpilogue(output + (long)i0 * l.Heads * l.HeadDim + h * l.HeadDim, l.Heads * l.HeadDim, inverseSums,
            o.VScales + (long)h * l.HeadDimPanelled);
        int valuePanels = l.HeadDimPanelled / 8;
        for (int p0 = 0; p0 < valuePanels; p0 += 3)
        {
            GemmInt8.Tile(probabilities, 0, rows, stride, o.V(h), p0, Math.Min(3, valuePanels - p0), l.HeadDim, o.ZeroSums, ref outStore);
        }
    }

    /// <summary>
    /// u[j] = min(⌊255 · 2^((raw[j] − max) · s) + δ[j]⌋, 255) for a whole row of raw scores (length a multiple of 16,
    /// hidden keys −inf; <paramref name="queryFactor"/> s = s_q · scale · log₂e ≥ 0); returns 1 / Σu, 0 for a row that sees
    /// no key (its output is then zero) and NaN for a non-finite score.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Probabilities(float* row, int length, float queryFactor, float* dither, byte* u)
    {
        Vector512<float> max512 = Vector512.Create(float.NegativeInfinity);
        for (int j = 0; j < length; j += 16)
        {
            max512 = Vector512.Max(max512, Vector512.Load(row + j));
        }
        float max = RowMax(max512);
        if (float.IsNegativeInfinity(max) || !float.IsFinite(max) || !float.IsFinite(queryFactor))
        {
            new Span<byte>(u, length).Clear();
            return float.IsNegativeInfinity(max) ? 0 : float.NaN;
        }
        // A zero query row (factor 0) scores every visible key 0: a uniform row, not 0 · −inf.
        Vector512<float> rowMax = Vector512.Create(max), factor = Vector512.Create(queryFactor == 0 ? 1f : queryFactor);
        Vector512<float> levels = Vector512.Create(255f);
        Vector512<int> sum = Vector512<int>.Zero, top = Vector512.Create(255);
        for (int j = 0; j < length; j += 16)
        {
            Vector512<float> p = Exp2Coarse((Vector512.Load(row + j) - rowMax) * factor);
            Vector512<int> level = Avx512F.ConvertToVector512Int32WithTruncation(Vector512.FusedMultiplyAdd(p, levels, Vector512.Load(dither + j)));
            level = Vector512.Min(level, top);
            sum += level;
            Avx512F.ConvertToVector128Byte(level).Store(u + j);
        }
        return 1f / Vector512.Sum(sum);
    }

    private static float RowMax(Vector512<float> max512)
    {
        Vector256<float> max256 = Vector256.Max(max512.GetLower(), max512.GetUpper());
        float max = float.NegativeInfinity;
        for (int lane = 0; lane < Vector256<float>.Count; lane++)
        {
            max = MathF.Max(max, max256[lane]);
        }
        return max;
    }

    // 2^r on [−½, ½]: degree-3 polynomial fitted for the least maximum relative error, 7.6e-5 — below a hundredth of
    // the 1/255 probability level it feeds (the float32 kernels' softmax needs the degree-6 VectorExp.Exp2NonPositive).
    private const float Exp2C0 = 0.99992839f, Exp2C1 = 0.69326096f, Exp2C2 = 0.24260636f, Exp2C3 = 0.055169163f;

    /// <summary>Exp2Clamp: at or below it (−inf for hidden keys included) 2^x is exactly 0, as in <see cref="VectorExp"/>.</summary>
    private const float Exp2Clamp = -151f;

    /// <summary>2^x for x ≤ 0 to 7.6e-5 relative: x = n + r, n = round(x) (1.5·2²³ shifter), 2^r by the cubic, scaled by 2^n.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp2Coarse(Vector512<float> x)
    {
        Vector512<float> clamped = Vector512.Max(x, Vector512.Create(Exp2Clamp));
        Vector512<float> shifter = Vector512.Create(12582912f);
        Vector512<float> n = (clamped + shifter) - shifter;
        Vector512<float> r = clamped - n;
        Vector512<float> p = Vector512.FusedMultiplyAdd(Vector512.Create(Exp2C3), r, Vector512.Create(Exp2C2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(Exp2C1));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(Exp2C0));
        return Avx512F.Scale(p, n);
    }

    /// <summary>The scalar statement of <see cref="Exp2Coarse"/>: the same operations on one value.</summary>
    private static float Exp2CoarseScalar(float x)
    {
        float clamped = MathF.Max(x, Exp2Clamp);
        float n = (clamped + 12582912f) - 12582912f;
        float r = clamped - n;
        float p = MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(MathF.FusedMultiplyAdd(Exp2C3, r, Exp2C2), r, Exp2C1), r, Exp2C0);
        return MathF.ScaleB(p, (int)n);
    }

    /// <summary>raw[i, j] = float(dot) · s_k[j] into rows of <c>stride</c> floats (the query's factor is applied in the softmax).</summary>
    private readonly struct ScoreEpilogue(float* c, int stride, float* colScales) : IInt8Epilogue
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store8(int i, int j0, Vector256<int> dot) =>
            (Vector256.ConvertToSingle(dot) * Vector256.Load(colScales + j0)).Store(c + (long)i * stride + j0);

        public void Store1(int i, int j, int dot) => c[(long)i * stride + j] = dot * colScales[j];
    }

    /// <summary>out[i, d] = float(dot) · (1/Σu[i] · s_v[d]) at the head's columns of the token-major output.</summary>
    private readonly struct OutputEpilogue(float* c, int stride, float* inverseSums, float* colScales) : IInt8Epilogue
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store8(int i, int j0, Vector256<int> dot) =>
            (Vector256.ConvertToSingle(dot) * (Vector256.Create(inverseSums[i]) * Vector256.Load(colScales + j0))).Store(c + (long)i * stride + j0);

        public void Store1(int i, int j, int dot) => c[(long)i * stride + j] = dot * (inverseSums[i] * colScales[j]);
    }

    /// <summary>
    /// The scalar statement of <see cref="Compute"/>: the same quantization (bytes and scales equal the kernel's), integer
    /// dot products, exponential, levels and normalisation.
    /// </summary>
    public static void Reference(
        ReadOnlySpan<float> q, int queries, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int keys, int heads, int headDim,
        float scale, AttentionMask mask, Span<float> output)
    {
        int hd = headDim;
        long rowStride = (long)heads * hd;
        var kq = new sbyte[keys * hd];
        var kScale = new float[keys];
        var vq = new sbyte[keys * hd];
        var vScale = new float[hd];
        var qq = new sbyte[hd];
        var scores = new float[keys];
        var levels = new int[keys];
        var smoothed = new float[hd];
        for (int h = 0; h < heads; h++)
        {
            var mean = new float[hd];
            for (int j = 0; j < keys; j++)
            {
                for (int d = 0; d < hd; d++)
                {
                    mean[d] += k[(int)(j * rowStride + h * hd + d)];
                }
            }
            float inverseKeys = 1f / keys;
            for (int d = 0; d < hd; d++)
            {
                mean[d] *= inverseKeys;
            }
            for (int j = 0; j < keys; j++)
            {
                for (int d = 0; d < hd; d++)
                {
                    smoothed[d] = k[(int)(j * rowStride + h * hd + d)] - mean[d];
                }
                kScale[j] = Int8Weights.QuantizeRow(smoothed, kq.AsSpan(j * hd, hd));
            }
            Array.Clear(vScale);
            for (int j = 0; j < keys; j++)
            {
                for (int d = 0; d < hd; d++)
                {
                    vScale[d] = MathF.Max(vScale[d], MathF.Abs(v[(int)(j * rowStride + h * hd + d)]));
                }
            }
            for (int d = 0; d < hd; d++)
            {
                float inverse = vScale[d] == 0 ? 0 : 127f / vScale[d];
                for (int j = 0; j < keys; j++)
                {
                    vq[j * hd + d] = (sbyte)Math.Clamp(MathF.Round(v[(int)(j * rowStride + h * hd + d)] * inverse), -127f, 127f);
                }
                vScale[d] /= 127f;
            }
            for (int i = 0; i < queries; i++)
            {
                float qFactor = Int8Weights.QuantizeRow(q.Slice((int)(i * rowStride + h * hd), hd), qq) * (scale * Log2E);
                for (int j = 0; j < keys; j++)
                {
                    int dot = 0;
                    for (int d = 0; d < hd; d++)
                    {
                        dot += qq[d] * kq[j * hd + d];
                    }
                    scores[j] = dot * kScale[j];
                }
                mask.HideInvisible(i, 0, scores);
                float max = float.NegativeInfinity;
                foreach (float s in scores)
                {
                    max = MathF.Max(max, s);
                }
                Span<float> o = output.Slice((int)(i * rowStride + h * hd), hd);
                if (float.IsNegativeInfinity(max))
                {
                    o.Clear();
                    continue;
                }
                int total = 0, offset = DitherOffset(i);
                for (int j = 0; j < keys; j++)
                {
                    float p = Exp2CoarseScalar((scores[j] - max) * (qFactor == 0 ? 1f : qFactor));
                    levels[j] = Math.Min((int)MathF.FusedMultiplyAdd(p, 255f, Dither(offset + j)), 255);
                    total += levels[j];
                }
                float inverseSum = 1f / total;
                for (int d = 0; d < hd; d++)
                {
                    int dot = 0;
                    for (int j = 0; j < keys; j++)
                    {
                        dot += levels[j] * vq[j * hd + d];
                    }
                    o[d] = dot * (inverseSum * vScale[d]);
                }
            }
        }
    }
}
