using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Entry point of the tuned attention. Calls with at least <see cref="AttentionLanes.Rows"/> (query, head-in-group) rows
/// per KV head — vision self-attention, text prefill, cross-attention prefill — go to <see cref="AttentionLanes"/> (rows
/// in vector lanes, less L2 traffic per row); the rest (decode, short prompts) run here.
/// Flash-attention style kernel: for each KV head, the rows (query, head-in-group) are processed 14 at a time —
/// grouped-query heads that share a KV head share the K and V traffic — against key tiles of <see cref="KeyTile"/>:
/// S = Q·Kᵀ with the GEMM micro-kernel (Q packed with the scale and log2 e folded in, K pre-packed transposed once per call),
/// the mask applied per tile (hidden tiles skipped, mixed tiles masked by ranges), an online softmax (running max and
/// sum, rescaling the output accumulator when the max grows), and O += P·V with 5- and 4-row register tiles over V rows.
/// Tried and dropped (no measurable gain): splitting each key tile into a Q·Kᵀ sweep over all panels followed by a
/// P·V sweep, to keep the Kᵀ and V tiles L1-resident separately (tried twice, the second time with 64-key tiles so
/// that each sweep's working set fits L1; docs/performance.md, fourth pass).
/// </summary>
/// <remarks>
/// Each (KV head, 14-row panel) is one work item with a fixed key order, so results do not depend on the thread count.
/// Rounding differs from the two-pass <see cref="AttentionReference"/> only by float32 re-association (scale and
/// log2 e folded into Q, 2^(s − running max) rescaled), well inside 1e-4 relative.
/// </remarks>
internal static unsafe class AttentionTiled
{
    private const int Rows = GemmMicroKernel.Rows;   // 14 (query, head) rows per panel
    private const int KeyPanel = GemmMicroKernel.Cols; // 32 keys per packed Kᵀ panel
    private const int KeyTile = 128;                  // keys per online-softmax step (4 Kᵀ panels; S tile 14×128 = 7 KiB)
    // Row panels per work item, walking the key tiles together (stack: 8 × (Q + S + O) ≈ 170 KiB at d = 128). Chosen when
    // this kernel ran every call (112 rows sharing each K/V tile); since AttentionLanes takes ≥ 48 rows per KV head, an
    // item here holds at most 4 panels.
    private const int PanelsPerItem = 8;

    public static void Run(float* q, int queries, int heads, float* k, float* v, int keys, int kvHeads, int d, float scale,
        AttentionMask mask, float* output, ComputeContext context, bool batchInvariant = false)
    {
        int group = heads / kvHeads;
        int rowsPerKv = queries * group;
        // Batch invariance: the rows-in-lanes kernel computes every row alone in its lane (the 14-row kernel's scores
        // and sums would take another order), so a handful of rows gets the bits they get among many.
        if (AttentionLanes.Supports(rowsPerKv, d) || batchInvariant && AttentionLanes.SupportsHeadDim(d))
        {
            // Enough rows to fill 48 lanes: the transposed kernel (see the class summary).
            AttentionLanes.Run(q, queries, heads, k, v, keys, kvHeads, d, scale, mask, output, context);
            return;
        }
        int panels = (rowsPerKv + Rows - 1) / Rows;
        int keyPanels = (keys + KeyPanel - 1) / KeyPanel;
        long panelFloats = (long)d * KeyPanel;
        // Fewer rows than a panel (decode: 1 query × the group's heads): packing Kᵀ would cost more than the dots it
        // feeds, so scores are computed straight from the K rows instead.
        bool direct = rowsPerKv < Rows;
        ScratchBuffer kt = context.Scratch.Rent(direct ? 16 : kvHeads * keyPanels * panelFloats);
        // V is regrouped per KV head ([kvHead][key][d], contiguous): in the token-major layout consecutive keys of one
        // head are kvHeads·d·4 bytes apart (4 KiB for the text model), which maps a whole key tile onto a few L1 sets.
        ScratchBuffer vp = context.Scratch.Rent(direct ? 16 : (long)kvHeads * keys * d);
        try
        {
            nint ktPtr = (nint)kt.Pointer, vpPtr = (nint)vp.Pointer, kPtr = (nint)k, vPtr = (nint)v, qPtr = (nint)q, oPtr = (nint)output;
            // Phase 1: Kᵀ panels [kvHead][keyPanel][d][32] (keys past the end are zero and never used).
            const int PackPanelsPerItem = 8;
            int packItemsPerHead = (keyPanels + PackPanelsPerItem - 1) / PackPanelsPerItem;
            context.For(direct ? 0 : kvHeads * packItemsPerHead, item =>
            {
                int g = item / packItemsPerHead, kp0 = item % packItemsPerHead * PackPanelsPerItem, kp1 = Math.Min(keyPanels, kp0 + PackPanelsPerItem);
                for (int kp = kp0; kp < kp1; kp++)
                {
                    PackKeys((float*)kPtr, keys, kvHeads, d, g, kp, (float*)ktPtr + (g * keyPanels + kp) * panelFloats);
                }
                for (int j = kp0 * KeyPanel, j1 = Math.Min(keys, kp1 * KeyPanel); j < j1; j++)
                {
                    new ReadOnlySpan<float>((float*)vPtr + ((long)j * kvHeads + g) * d, d).CopyTo(
                        new Span<float>((float*)vpPtr + ((long)g * keys + j) * d, d));
                }
            });
            // Phase 2: one item per (KV head, group of up to PanelsPerItem row panels). Scores are computed in base-2
            // units (log2 e folded into the Q scale), so the softmax's exponential is a plain 2^x.
            float scaleLog2 = scale * Log2E;
            int groups = (panels + PanelsPerItem - 1) / PanelsPerItem;
            context.For(kvHeads * groups, item =>
            {
                int g = item / groups, panel = item % groups * PanelsPerItem;
                float* vHead = direct ? (float*)vPtr + (long)g * d : (float*)vpPtr + (long)g * keys * d;
                long ldv = direct ? (long)kvHeads * d : d;
                ProcessPanels((float*)qPtr, queries, heads, group, direct ? null : (float*)ktPtr + g * keyPanels * panelFloats,
                    (float*)kPtr + (long)g * d, kvHeads, vHead, ldv, keys, d, scaleLog2, mask, g, panel * Rows, Math.Min(PanelsPerItem * Rows, rowsPerKv - panel * Rows), (float*)oPtr);
            });
        }
        finally
        {
            context.Scratch.Return(kt);
            context.Scratch.Return(vp);
        }
    }

    private static void PackKeys(float* k, int keys, int kvHeads, int d, int g, int kp, float* dst)
    {
        int j0 = kp * KeyPanel, count = Math.Min(KeyPanel, keys - j0);
        long ldk = (long)kvHeads * d;
        if (count == KeyPanel && d % 16 == 0)
        {
            // Two groups of 16 keys, 16 dims at a time, transposed in registers: the scalar loop below made the
            // per-call packing (with the Q panels) ≈ 4 % of the vision attention.
            for (int half = 0; half < KeyPanel; half += 16)
            {
                float* src = k + ((long)(j0 + half) * kvHeads + g) * d;
                for (int p = 0; p < d; p += 16)
                {
                    float* s0 = src + p;
                    Transpose16x16.Store(
                        Vector512.Load(s0), Vector512.Load(s0 + ldk), Vector512.Load(s0 + 2 * ldk), Vector512.Load(s0 + 3 * ldk),
                        Vector512.Load(s0 + 4 * ldk), Vector512.Load(s0 + 5 * ldk), Vector512.Load(s0 + 6 * ldk), Vector512.Load(s0 + 7 * ldk),
                        Vector512.Load(s0 + 8 * ldk), Vector512.Load(s0 + 9 * ldk), Vector512.Load(s0 + 10 * ldk), Vector512.Load(s0 + 11 * ldk),
                        Vector512.Load(s0 + 12 * ldk), Vector512.Load(s0 + 13 * ldk), Vector512.Load(s0 + 14 * ldk), Vector512.Load(s0 + 15 * ldk),
                        dst + (long)p * KeyPanel + half, KeyPanel, Vector512<float>.AllBitsSet);
                }
            }
            return;
        }
        for (int j = 0; j < count; j++)
        {
            float* src = k + ((long)(j0 + j) * kvHeads + g) * d;
            for (int p = 0; p < d; p++)
            {
                dst[p * KeyPanel + j] = src[p];
            }
        }
        for (int j = count; j < KeyPanel; j++)
        {
            for (int p = 0; p < d; p++)
            {
                dst[p * KeyPanel + j] = 0f;
            }
        }
    }

    /// <summary>
    /// Rows [r0, r0 + rows) of one KV head's (query, head-in-group) sequence, as up to <see cref="PanelsPerItem"/> panels of
    /// 14 that walk the key tiles together: each K/V tile (2 × 40 KiB for d = 80) is loaded once into L1/L2 and used by
    /// all panels, instead of streaming the head's whole K and V from L3 once per 14 rows.
    /// </summary>
    [SkipLocalsInit]
    private static void ProcessPanels(float* q, int queries, int heads, int group, float* kt, float* kRows, int kvHeads, float* v, long ldv, int keys, int d,
        float scale, AttentionMask mask, int g, int r0, int rows, float* output)
    {
        int panelCount = (rows + Rows - 1) / Rows;
        // Per-item scratch on the stack, per panel: packed Q (d×14), S tile (14×128), O accumulator (14×d), running max/sum.
        int qStride = d * Rows, sStride = Rows * KeyTile, oStride = Rows * d;
        float* qpRaw = stackalloc float[panelCount * qStride + 16];
        float* sRaw = stackalloc float[panelCount * sStride + 16];
        float* oRaw = stackalloc float[panelCount * oStride + 16];
        float* qpAll = Align(qpRaw), sAll = Align(sRaw), oAll = Align(oRaw);
        // Running max and sum per row, 16 slots per panel (lanes 14 and 15 unused: −inf and 0), so a panel's 14 rows are
        // one vector for the batched softmax.
        float* runMaxRaw = stackalloc float[panelCount * 16 + 16];
        float* runSumRaw = stackalloc float[panelCount * 16 + 16];
        float* lanesRaw = stackalloc float[2 * 16 * 16 + 16]; // per-row partial vectors for the horizontal reductions
        float* runMax = Align(runMaxRaw), runSum = Align(runSumRaw), lanes = Align(lanesRaw);
        for (int i = 0; i < panelCount * 16; i++)
        {
            runMax[i] = float.NegativeInfinity;
            runSum[i] = 0f;
        }
        int* queryOf = stackalloc int[panelCount * Rows];
        for (int r = 0; r < rows; r++)
        {
            queryOf[r] = (r0 + r) / group;
        }
        for (int panel = 0; panel < panelCount; panel++)
        {
            int first = panel * Rows;
            PackQueries(q, heads, group, g, r0 + first, Math.Min(Rows, rows - first), d, scale, qpAll + panel * qStride);
        }
        new Span<float>(oAll, panelCount * oStride).Clear();
        long ldk = (long)kvHeads * d;
        for (int j0 = 0; j0 < keys; j0 += KeyTile)
        {
            int count = Math.Min(KeyTile, keys - j0);
            for (int panel = 0; panel < panelCount; panel++)
            {
                int first = panel * Rows, panelRows = Math.Min(Rows, rows - first);
                float* qp = qpAll + panel * qStride, s = sAll + panel * sStride, o = oAll + panel * oStride;
                MaskTileState state = mask.Classify(queryOf[first], queryOf[first + panelRows - 1], j0, count);
                if (state == MaskTileState.NoneVisible)
                {
                    continue;
                }
                if (kt != null)
                {
                    int tilePanels = (count + KeyPanel - 1) / KeyPanel;
                    for (int t = 0; t < tilePanels; t++)
                    {
                        GemmMicroKernel.Kernel14x32(qp, kt + (long)(j0 / KeyPanel + t) * d * KeyPanel, d, s + t * KeyPanel, KeyTile, false, null);
                    }
                }
                else
                {
                    DirectScores(qp, panelRows, kRows + (long)j0 * ldk, ldk, count, d, s);
                }
                if (state == MaskTileState.Mixed)
                {
                    for (int r = 0; r < panelRows; r++)
                    {
                        mask.HideInvisible(queryOf[first + r], j0, new Span<float>(s + r * KeyTile, count));
                    }
                }
                if (SoftmaxStep(s, panelRows, count, runMax + panel * 16, runSum + panel * 16, o, d, lanes))
                {
                    AccumulatePV(s, panelRows, count, v + (long)j0 * ldv, ldv, o, d);
                }
            }
        }
        for (int r = 0; r < rows; r++)
        {
            int row = r0 + r, i = queryOf[r], h = g * group + row % group;
            float* o = oAll + r / Rows * oStride + r % Rows * d;
            var dst = new Span<float>(output + ((long)i * heads + h) * d, d);
            float sum = runSum[r / Rows * 16 + r % Rows];
            if (sum == 0f)
            {
                dst.Clear(); // no visible key
            }
            else
            {
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(o, d), 1f / sum, dst);
            }
        }
    }

    /// <summary>
    /// Packs the (query, head-in-group) rows [row0, row0 + count) of KV head g, times <paramref name="scale"/>, as the
    /// [d][14] panel the score kernel reads (rows past count are zero).
    /// </summary>
    private static void PackQueries(float* q, int heads, int group, int g, int row0, int count, int d, float scale, float* qp)
    {
        float* RowStart(int row) => q + ((long)(row / group) * heads + g * group + row % group) * d;
        if (count == Rows && d % 16 == 0)
        {
            // 14 rows × 16 dims per step, transposed in registers (rows 14 and 15 are zero and masked off on store).
            Vector512<float> mask = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0).AsSingle();
            Vector512<float> sv = Vector512.Create(scale);
            float* r0 = RowStart(row0), r1 = RowStart(row0 + 1), r2 = RowStart(row0 + 2), r3 = RowStart(row0 + 3);
            float* r4 = RowStart(row0 + 4), r5 = RowStart(row0 + 5), r6 = RowStart(row0 + 6), r7 = RowStart(row0 + 7);
            float* r8 = RowStart(row0 + 8), r9 = RowStart(row0 + 9), r10 = RowStart(row0 + 10), r11 = RowStart(row0 + 11);
            float* r12 = RowStart(row0 + 12), r13 = RowStart(row0 + 13);
            for (int p = 0; p < d; p += 16)
            {
                Transpose16x16.Store(
                    Vector512.Load(r0 + p) * sv, Vector512.Load(r1 + p) * sv, Vector512.Load(r2 + p) * sv, Vector512.Load(r3 + p) * sv,
                    Vector512.Load(r4 + p) * sv, Vector512.Load(r5 + p) * sv, Vector512.Load(r6 + p) * sv, Vector512.Load(r7 + p) * sv,
                    Vector512.Load(r8 + p) * sv, Vector512.Load(r9 + p) * sv, Vector512.Load(r10 + p) * sv, Vector512.Load(r11 + p) * sv,
                    Vector512.Load(r12 + p) * sv, Vector512.Load(r13 + p) * sv, Vector512<float>.Zero, Vector512<float>.Zero,
                    qp + (long)p * Rows, Rows, mask);
            }
            return;
        }
        for (int lane = 0; lane < Rows; lane++)
        {
            float* src = lane < count ? RowStart(row0 + lane) : null;
            for (int p = 0; p < d; p++)
            {
                qp[p * Rows + lane] = src == null ? 0f : src[p] * scale;
            }
        }
    }

    /// <summary>
    /// One online-softmax step for a panel of <paramref name="rows"/> ≤ 14 score rows (row stride <see cref="KeyTile"/>,
    /// hidden keys −inf; lanes of rows past <paramref name="rows"/> are treated as seeing nothing and left untouched):
    /// new running max per row, P = 2^(S − max) in place (S in base-2 units; 0 for hidden keys and past
    /// <paramref name="count"/>), running sums rescaled and extended, and the O rows rescaled by 2^(old max − new max).
    /// The 14 rows are handled as lanes of one vector: the per-row horizontal max and sum of the former row-by-row loop
    /// (with a scalar exp and a rescale call per row) cost ≈ 20 % of the vision attention. Returns whether any row sees
    /// a key so far.
    /// </summary>
    private static bool SoftmaxStep(float* s, int rows, int count, float* runMax, float* runSum, float* o, int d, float* lanes)
    {
        Vector512<float> negInf = Vector512.Create(float.NegativeInfinity);
        int full = count & ~15, tail = count - full;
        Vector512<float> tailKeep = Vector512.LessThan(Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create(tail)).AsSingle();
        float* maxLanes = lanes, sumLanes = lanes + 16 * 16;
        for (int r = 0; r < rows; r++)
        {
            float* row = s + r * KeyTile;
            Vector512<float> m0 = negInf, m1 = negInf;
            int j = 0;
            for (; j + 32 <= full; j += 32)
            {
                m0 = Vector512.Max(m0, Vector512.Load(row + j));
                m1 = Vector512.Max(m1, Vector512.Load(row + j + 16));
            }
            if (j < full)
            {
                m0 = Vector512.Max(m0, Vector512.Load(row + j));
            }
            if (tail != 0)
            {
                Vector512<float> x = Vector512.ConditionalSelect(tailKeep, Vector512.Load(row + full), negInf);
                x.Store(row + full); // lanes past count become −inf, so their P is 0
                m1 = Vector512.Max(m1, x);
            }
            Vector512.Max(m0, m1).Store(maxLanes + r * 16);
        }
        for (int r = rows; r < 16; r++)
        {
            negInf.Store(maxLanes + r * 16);
        }
        Vector512<float> oldMax = Vector512.Load(runMax);
        Vector512<float> newMax = Vector512.Max(oldMax, ReduceLanes(maxLanes, max: true));
        Vector512<float> visible = ~Vector512.Equals(newMax, negInf);
        // 2^(old − new): 0 on a row's first visible tile (old = −inf); rows still without a visible key keep 1 (their
        // O and sum are 0 anyway) instead of the NaN of −inf − (−inf).
        Vector512<float> alpha = Vector512.ConditionalSelect(visible, VectorExp.Exp2NonPositive(oldMax - newMax), Vector512<float>.One);
        newMax.Store(runMax);
        float* maxOf = lanes; // reuse: the per-row partial maxima are consumed
        newMax.Store(maxOf);
        for (int r = 0; r < rows; r++)
        {
            float* row = s + r * KeyTile;
            int stored = full + (tail != 0 ? 16 : 0);
            if (float.IsNegativeInfinity(maxOf[r]))
            {
                new Span<float>(row, stored).Clear(); // nothing visible to this row yet: P = 0
                Vector512<float>.Zero.Store(sumLanes + r * 16);
                continue;
            }
            Vector512<float> mv = Vector512.Create(maxOf[r]), s0 = Vector512<float>.Zero, s1 = Vector512<float>.Zero;
            int j = 0;
            for (; j + 32 <= stored; j += 32)
            {
                Vector512<float> e0 = VectorExp.Exp2NonPositive(Vector512.Load(row + j) - mv), e1 = VectorExp.Exp2NonPositive(Vector512.Load(row + j + 16) - mv);
                e0.Store(row + j);
                e1.Store(row + j + 16);
                s0 += e0;
                s1 += e1;
            }
            if (j < stored)
            {
                Vector512<float> e0 = VectorExp.Exp2NonPositive(Vector512.Load(row + j) - mv);
                e0.Store(row + j);
                s0 += e0;
            }
            (s0 + s1).Store(sumLanes + r * 16);
        }
        for (int r = rows; r < 16; r++)
        {
            Vector512<float>.Zero.Store(sumLanes + r * 16);
        }
        (Vector512.Load(runSum) * alpha + ReduceLanes(sumLanes, max: false)).Store(runSum);
        alpha.Store(maxOf);
        for (int r = 0; r < rows; r++)
        {
            float a = maxOf[r];
            if (a != 1f)
            {
                Vector512<float> av = Vector512.Create(a);
                for (int c = 0; c < d; c += 16)
                {
                    (Vector512.Load(o + r * d + c) * av).Store(o + r * d + c);
                }
            }
        }
        return (visible.ExtractMostSignificantBits() & 0x3FFF) != 0;
    }

    /// <summary>
    /// Lane r of the result = the max (or the sum) of the 16 values of v[r] = p[16r .. 16r + 16), for r = 0..15, by a
    /// butterfly of unpack / 128-bit shuffle steps (45 operations for all 16 rows instead of a horizontal reduction per
    /// row). The combination order is fixed, so results do not depend on anything but the inputs.
    /// </summary>
    private static Vector512<float> ReduceLanes(float* p, bool max)
    {
        // Level 1: rows (2i, 2i+1) -> per 128-bit lane [a, b, a, b] partials.
        Vector512<float> c0 = Pair(Vector512.Load(p), Vector512.Load(p + 16), max);
        Vector512<float> c1 = Pair(Vector512.Load(p + 32), Vector512.Load(p + 48), max);
        Vector512<float> c2 = Pair(Vector512.Load(p + 64), Vector512.Load(p + 80), max);
        Vector512<float> c3 = Pair(Vector512.Load(p + 96), Vector512.Load(p + 112), max);
        Vector512<float> c4 = Pair(Vector512.Load(p + 128), Vector512.Load(p + 144), max);
        Vector512<float> c5 = Pair(Vector512.Load(p + 160), Vector512.Load(p + 176), max);
        Vector512<float> c6 = Pair(Vector512.Load(p + 192), Vector512.Load(p + 208), max);
        Vector512<float> c7 = Pair(Vector512.Load(p + 224), Vector512.Load(p + 240), max);
        // Level 2: 64-bit interleave -> per 128-bit lane [r, r+1, r+2, r+3] partials.
        Vector512<float> e0 = Quad(c0, c1, max), e1 = Quad(c2, c3, max), e2 = Quad(c4, c5, max), e3 = Quad(c6, c7, max);
        // Level 3: fold 128-bit lanes (0,2) and (1,3) of two 4-row groups.
        Vector512<float> g0 = Combine(Avx512F.Shuffle4x128(e0, e1, 0x44), Avx512F.Shuffle4x128(e0, e1, 0xEE), max);
        Vector512<float> g1 = Combine(Avx512F.Shuffle4x128(e2, e3, 0x44), Avx512F.Shuffle4x128(e2, e3, 0xEE), max);
        // Level 4: fold the remaining lane pairs -> lane 4k + j = row 4k + j.
        return Combine(Avx512F.Shuffle4x128(g0, g1, 0x88), Avx512F.Shuffle4x128(g0, g1, 0xDD), max);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Combine(Vector512<float> x, Vector512<float> y, bool max) => max ? Vector512.Max(x, y) : x + y;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair(Vector512<float> a, Vector512<float> b, bool max) =>
        Combine(Avx512F.UnpackLow(a, b), Avx512F.UnpackHigh(a, b), max);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Quad(Vector512<float> c, Vector512<float> d, bool max) =>
        Combine(Lo64(c, d), Hi64(c, d), max);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo64(Vector512<float> x, Vector512<float> y) => Avx512F.UnpackLow(x.AsDouble(), y.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi64(Vector512<float> x, Vector512<float> y) => Avx512F.UnpackHigh(x.AsDouble(), y.AsDouble()).AsSingle();

    /// <summary>log2 e: folded into the Q scale, so scores are in base-2 units for <see cref="VectorExp.Exp2NonPositive"/>.</summary>
    private const float Log2E = 1.44269504088896341f;

    /// <summary>s[r, j] = q_r · k_j for r &lt; rows (q packed [d][14], scale folded in), k rows of stride ldk.</summary>
    private static void DirectScores(float* qp, int rows, float* k, long ldk, int count, int d, float* s)
    {
        float* qRow = stackalloc float[d];
        for (int r = 0; r < rows; r++)
        {
            for (int p = 0; p < d; p++)
            {
                qRow[p] = qp[p * Rows + r];
            }
            for (int j = 0; j < count; j++)
            {
                float* kj = k + j * ldk;
                Vector512<float> acc = Vector512<float>.Zero;
                for (int p = 0; p < d; p += 16)
                {
                    acc = Vector512.FusedMultiplyAdd(Vector512.Load(qRow + p), Vector512.Load(kj + p), acc);
                }
                s[r * KeyTile + j] = Vector512.Sum(acc);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* Align(float* p) => (float*)(((nint)p + 63) & ~(nint)63);

    /// <summary>o[r, :] += Σ_j p[r, j] · v[j, :] for r &lt; rows, j &lt; count (p row stride <see cref="KeyTile"/>, o row stride d).</summary>
    private static void AccumulatePV(float* p, int rows, int count, float* v, long ldv, float* o, int d)
    {
        int r = 0;
        if (d == 80 && rows == Rows)
        {
            // Full panel (the vision case), 14 = 5 + 5 + 4 rows: 5×80 tiles (25 accumulators + 5 V vectors + 1
            // broadcast = 31 zmm) do 25 FMAs per 10 loads. Key chunks of 32 are outermost, so each 10 KiB V chunk is read
            // from L2 once and reused from L1 by the three row tiles (row tiles outermost streamed the 40 KiB V tile
            // from L2 once per row tile). Per output element the FMA order over keys is unchanged.
            for (int c0 = 0; c0 < count; c0 += KeyPanel)
            {
                int n = Math.Min(KeyPanel, count - c0);
                float* vc = v + c0 * ldv;
                PV5x80(p + c0, n, vc, ldv, o);
                PV5x80(p + 5 * KeyTile + c0, n, vc, ldv, o + 5 * d);
                PV4x80(p + 10 * KeyTile + c0, n, vc, ldv, o + 10 * d);
            }
            return;
        }
        if (d % 64 == 0 && rows == Rows)
        {
            // Full panel, d a multiple of 64 (the text model's 128): the same 5 + 5 + 4 rows over 32-key chunks, in
            // 64-column slices (5×64 tiles: 20 accumulators, 20 FMAs per 9 loads), so each V chunk slice stays in L1.
            for (int c0 = 0; c0 < count; c0 += KeyPanel)
            {
                int n = Math.Min(KeyPanel, count - c0);
                for (int c = 0; c < d; c += 64)
                {
                    float* vc = v + c0 * ldv + c;
                    PV5x64(p + c0, n, vc, ldv, o + c, d);
                    PV5x64(p + 5 * KeyTile + c0, n, vc, ldv, o + 5 * d + c, d);
                    PV4x64(p + 10 * KeyTile + c0, n, vc, ldv, o + 10 * d + c, d);
                }
            }
            return;
        }
        if (d == 80)
        {
            // The vision head size: 4 rows × 5 vectors = 20 accumulators, 9 loads per 20 FMAs.
            for (; r + 4 <= rows; r += 4)
            {
                PV4x80(p + r * KeyTile, count, v, ldv, o + r * d);
            }
            if (r + 2 <= rows)
            {
                // A partial panel's leftover pair as one 2×80 tile (10 independent accumulators). Splitting it
                // into 2×64 plus two 1×16 tiles left single-accumulator FMA chains, latency bound at 4 cycles per FMA.
                PV2x80(p + r * KeyTile, count, v, ldv, o + r * d);
                r += 2;
            }
        }
        for (; r + 4 <= rows; r += 4)
        {
            int c = 0;
            for (; c + 64 <= d; c += 64)
            {
                PV4x64(p + r * KeyTile, count, v + c, ldv, o + r * d + c, d);
            }
            for (; c < d; c += 16)
            {
                PV4x16(p + r * KeyTile, count, v + c, ldv, o + r * d + c, d);
            }
        }
        if (r + 2 <= rows)
        {
            // Two leftover rows (14 = 4 + 4 + 4 + 2): share each V load between them.
            int c = 0;
            for (; c + 64 <= d; c += 64)
            {
                PV2x64(p + r * KeyTile, count, v + c, ldv, o + r * d + c, d);
            }
            for (; c < d; c += 16)
            {
                PV1x16(p + r * KeyTile, count, v + c, ldv, o + r * d + c);
                PV1x16(p + (r + 1) * KeyTile, count, v + c, ldv, o + (r + 1) * d + c);
            }
            r += 2;
        }
        for (; r < rows; r++)
        {
            int c = 0;
            for (; c + 64 <= d; c += 64)
            {
                PV1x64(p + r * KeyTile, count, v + c, ldv, o + r * d + c);
            }
            for (; c < d; c += 16)
            {
                PV1x16(p + r * KeyTile, count, v + c, ldv, o + r * d + c);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PV4x64(float* p, int count, float* v, long ldv, float* o, int ldo)
    {
        Vector512<float> a00 = Vector512.Load(o), a01 = Vector512.Load(o + 16), a02 = Vector512.Load(o + 32), a03 = Vector512.Load(o + 48);
        float* o1 = o + ldo, o2 = o1 + ldo, o3 = o2 + ldo;
        Vector512<float> a10 = Vector512.Load(o1), a11 = Vector512.Load(o1 + 16), a12 = Vector512.Load(o1 + 32), a13 = Vector512.Load(o1 + 48);
        Vector512<float> a20 = Vector512.Load(o2), a21 = Vector512.Load(o2 + 16), a22 = Vector512.Load(o2 + 32), a23 = Vector512.Load(o2 + 48);
        Vector512<float> a30 = Vector512.Load(o3), a31 = Vector512.Load(o3 + 16), a32 = Vector512.Load(o3 + 32), a33 = Vector512.Load(o3 + 48);
        for (int j = 0; j < count; j++)
        {
            float* vj = v + j * ldv;
            Vector512<float> v0 = Vector512.Load(vj), v1 = Vector512.Load(vj + 16), v2 = Vector512.Load(vj + 32), v3 = Vector512.Load(vj + 48);
            Vector512<float> w = Vector512.Create(p[j]);
            a00 = Vector512.FusedMultiplyAdd(w, v0, a00); a01 = Vector512.FusedMultiplyAdd(w, v1, a01);
            a02 = Vector512.FusedMultiplyAdd(w, v2, a02); a03 = Vector512.FusedMultiplyAdd(w, v3, a03);
            w = Vector512.Create(p[KeyTile + j]);
            a10 = Vector512.FusedMultiplyAdd(w, v0, a10); a11 = Vector512.FusedMultiplyAdd(w, v1, a11);
            a12 = Vector512.FusedMultiplyAdd(w, v2, a12); a13 = Vector512.FusedMultiplyAdd(w, v3, a13);
            w = Vector512.Create(p[2 * KeyTile + j]);
            a20 = Vector512.FusedMultiplyAdd(w, v0, a20); a21 = Vector512.FusedMultiplyAdd(w, v1, a21);
            a22 = Vector512.FusedMultiplyAdd(w, v2, a22); a23 = Vector512.FusedMultiplyAdd(w, v3, a23);
            w = Vector512.Create(p[3 * KeyTile + j]);
            a30 = Vector512.FusedMultiplyAdd(w, v0, a30); a31 = Vector512.FusedMultiplyAdd(w, v1, a31);
            a32 = Vector512.FusedMultiplyAdd(w, v2, a32); a33 = Vector512.FusedMultiplyAdd(w, v3, a33);
        }
        a00.Store(o); a01.Store(o + 16); a02.Store(o + 32); a03.Store(o + 48);
        a10.Store(o1); a11.Store(o1 + 16); a12.Store(o1 + 32); a13.Store(o1 + 48);
        a20.Store(o2); a21.Store(o2 + 16); a22.Store(o2 + 32); a23.Store(o2 + 48);
        a30.Store(o3); a31.Store(o3 + 16); a32.Store(o3 + 32); a33.Store(o3 + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PV4x80(float* p, int count, float* v, long ldv, float* o)
    {
        const int D = 80;
        float* o1 = o + D, o2 = o1 + D, o3 = o2 + D;
        Vector512<float> a00 = Vector512.Load(o), a01 = Vector512.Load(o + 16), a02 = Vector512.Load(o + 32), a03 = Vector512.Load(o + 48), a04 = Vector512.Load(o + 64);
        Vector512<float> a10 = Vector512.Load(o1), a11 = Vector512.Load(o1 + 16), a12 = Vector512.Load(o1 + 32), a13 = Vector512.Load(o1 + 48), a14 = Vector512.Load(o1 + 64);
        Vector512<float> a20 = Vector512.Load(o2), a21 = Vector512.Load(o2 + 16), a22 = Vector512.Load(o2 + 32), a23 = Vector512.Load(o2 + 48), a24 = Vector512.Load(o2 + 64);
        Vector512<float> a30 = Vector512.Load(o3), a31 = Vector512.Load(o3 + 16), a32 = Vector512.Load(o3 + 32), a33 = Vector512.Load(o3 + 48), a34 = Vector512.Load(o3 + 64);
        for (int j = 0; j < count; j++)
        {
            float* vj = v + j * ldv;
            Vector512<float> v0 = Vector512.Load(vj), v1 = Vector512.Load(vj + 16), v2 = Vector512.Load(vj + 32), v3 = Vector512.Load(vj + 48), v4 = Vector512.Load(vj + 64);
            Vector512<float> w = Vector512.Create(p[j]);
            a00 = Vector512.FusedMultiplyAdd(w, v0, a00); a01 = Vector512.FusedMultiplyAdd(w, v1, a01); a02 = Vector512.FusedMultiplyAdd(w, v2, a02);
            a03 = Vector512.FusedMultiplyAdd(w, v3, a03); a04 = Vector512.FusedMultiplyAdd(w, v4, a04);
            w = Vector512.Create(p[KeyTile + j]);
            a10 = Vector512.FusedMultiplyAdd(w, v0, a10); a11 = Vector512.FusedMultiplyAdd(w, v1, a11); a12 = Vector512.FusedMultiplyAdd(w, v2, a12);
            a13 = Vector512.FusedMultiplyAdd(w, v3, a13); a14 = Vector512.FusedMultiplyAdd(w, v4, a14);
            w = Vector512.Create(p[2 * KeyTile + j]);
            a20 = Vector512.FusedMultiplyAdd(w, v0, a20); a21 = Vector512.FusedMultiplyAdd(w, v1, a21); a22 = Vector512.FusedMultiplyAdd(w, v2, a22);
            a23 = Vector512.FusedMultiplyAdd(w, v3, a23); a24 = Vector512.FusedMultiplyAdd(w, v4, a24);
            w = Vector512.Create(p[3 * KeyTile + j]);
            a30 = Vector512.FusedMultiplyAdd(w, v0, a30); a31 = Vector512.FusedMultiplyAdd(w, v1, a31); a32 = Vector512.FusedMultiplyAdd(w, v2, a32);
            a33 = Vector512.FusedMultiplyAdd(w, v3, a33); a34 = Vector512.FusedMultiplyAdd(w, v4, a34);
        }
        a00.Store(o); a01.Store(o + 16); a02.Store(o + 32); a03.Store(o + 48); a04.Store(o + 64);
        a10.Store(o1); a11.Store(o1 + 16); a12.Store(o1 + 32); a13.Store(o1 + 48); a14.Store(o1 + 64);
        a20.Store(o2); a21.Store(o2 + 16); a22.Store(o2 + 32); a23.Store(o2 + 48); a24.Store(o2 + 64);
        a30.Store(o3); a31.Store(o3 + 16); a32.Store(o3 + 32); a33.Store(o3 + 48); a34.Store(o3 + 64);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PV5x64(float* p, int count, float* v, long ldv, float* o, int ldo)
    {
        float* o0 = o + 0 * ldo;
        Vector512<float> a00 = Vector512.Load(o0 + 0), a01 = Vector512.Load(o0 + 16), a02 = Vector512.Load(o0 + 32), a03 = Vector512.Load(o0 + 48);
        float* o1 = o + 1 * ldo;
        Vector512<float> a10 = Vector512.Load(o1 + 0), a11 = Vector512.Load(o1 + 16), a12 = Vector512.Load(o1 + 32), a13 = Vector512.Load(o1 + 48);
        float* o2 = o + 2 * ldo;
        Vector512<float> a20 = Vector512.Load(o2 + 0), a21 = Vector512.Load(o2 + 16), a22 = Vector512.Load(o2 + 32), a23 = Vector512.Load(o2 + 48);
        float* o3 = o + 3 * ldo;
        Vector512<float> a30 = Vector512.Load(o3 + 0), a31 = Vector512.Load(o3 + 16), a32 = Vector512.Load(o3 + 32), a33 = Vector512.Load(o3 + 48);
        float* o4 = o + 4 * ldo;
        Vector512<float> a40 = Vector512.Load(o4 + 0), a41 = Vector512.Load(o4 + 16), a42 = Vector512.Load(o4 + 32), a43 = Vector512.Load(o4 + 48);
        for (int j = 0; j < count; j++)
        {
            float* vj = v + j * ldv;
            Vector512<float> v0 = Vector512.Load(vj), v1 = Vector512.Load(vj + 16), v2 = Vector512.Load(vj + 32), v3 = Vector512.Load(vj + 48);
            Vector512<float> w;
            w = Vector512.Create(p[0 * KeyTile + j]);
            a00 = Vector512.FusedMultiplyAdd(w, v0, a00); a01 = Vector512.FusedMultiplyAdd(w, v1, a01); a02 = Vector512.FusedMultiplyAdd(w, v2, a02); a03 = Vector512.FusedMultiplyAdd(w, v3, a03);
            w = Vector512.Create(p[1 * KeyTile + j]);
            a10 = Vector512.FusedMultiplyAdd(w, v0, a10); a11 = Vector512.FusedMultiplyAdd(w, v1, a11); a12 = Vector512.FusedMultiplyAdd(w, v2, a12); a13 = Vector512.FusedMultiplyAdd(w, v3, a13);
            w = Vector512.Create(p[2 * KeyTile + j]);
            a20 = Vector512.FusedMultiplyAdd(w, v0, a20); a21 = Vector512.FusedMultiplyAdd(w, v1, a21); a22 = Vector512.FusedMultiplyAdd(w, v2, a22); a23 = Vector512.FusedMultiplyAdd(w, v3, a23);
            w = Vector512.Create(p[3 * KeyTile + j]);
            a30 = Vector512.FusedMultiplyAdd(w, v0, a30); a31 = Vector512.FusedMultiplyAdd(w, v1, a31); a32 = Vector512.FusedMultiplyAdd(w, v2, a32); a33 = Vector512.FusedMultiplyAdd(w, v3, a33);
            w = Vector512.Create(p[4 * KeyTile + j]);
            a40 = Vector512.FusedMultiplyAdd(w, v0, a40); a41 = Vector512.FusedMultiplyAdd(w, v1, a41); a42 = Vector512.FusedMultiplyAdd(w, v2, a42); a43 = Vector512.FusedMultiplyAdd(w, v3, a43);
        }
        a00.Store(o0 + 0); a01.Store(o0 + 16); a02.Store(o0 + 32); a03.Store(o0 + 48);
        a10.Store(o1 + 0); a11.Store(o1 + 16); a12.Store(o1 + 32); a13.Store(o1 + 48);
        a20.Store(o2 + 0); a21.Store(o2 + 16); a22.Store(o2 + 32); a23.Store(o2 + 48);
        a30.Store(o3 + 0); a31.Store(o3 + 16); a32.Store(o3 + 32); a33.Store(o3 + 48);
        a40.Store(o4 + 0); a41.Store(o4 + 16); a42.Store(o4 + 32); a43.Store(o4 + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PV5x80(float* p, int count, float* v, long ldv, float* o)
    {
        Vector512<float> a00 = Vector512.Load(o + 0), a01 = Vector512.Load(o + 16), a02 = Vector512.Load(o + 32), a03 = Vector512.Load(o + 48), a04 = Vector512.Load(o + 64);
        Vector512<float> a10 = Vector512.Load(o + 80), a11 = Vector512.Load(o + 96), a12 = Vector512.Load(o + 112), a13 = Vector512.Load(o + 128), a14 = Vector512.Load(o + 144);
        Vector512<float> a20 = Vector512.Load(o + 160), a21 = Vector512.Load(o + 176), a22 = Vector512.Load(o + 192), a23 = Vector512.Load(o + 208), a24 = Vector512.Load(o + 224);
        Vector512<float> a30 = Vector512.Load(o + 240), a31 = Vector512.Load(o + 256), a32 = Vector512.Load(o + 272), a33 = Vector512.Load(o + 288), a34 = Vector512.Load(o + 304);
        Vector512<float> a40 = Vector512.Load(o + 320), a41 = Vector512.Load(o + 336), a42 = Vector512.Load(o + 352), a43 = Vector512.Load(o + 368), a44 = Vector512.Load(o + 384);
        for (int j = 0; j < count; j++)
        {
            float* vj = v + j * ldv;
            Vector512<float> v0 = Vector512.Load(vj), v1 = Vector512.Load(vj + 16), v2 = Vector512.Load(vj + 32), v3 = Vector512.Load(vj + 48), v4 = Vector512.Load(vj + 64);
            Vector512<float> w;
            w = Vector512.Create(p[0 * KeyTile + j]);
            a00 = Vector512.FusedMultiplyAdd(w, v0, a00); a01 = Vector512.FusedMultiplyAdd(w, v1, a01); a02 = Vector512.FusedMultiplyAdd(w, v2, a02); a03 = Vector512.FusedMultiplyAdd(w, v3, a03); a04 = Vector512.FusedMultiplyAdd(w, v4, a04);
            w = Vector512.Create(p[1 * KeyTile + j]);
            a10 = Vector512.FusedMultiplyAdd(w, v0, a10); a11 = Vector512.FusedMultiplyAdd(w, v1, a11); a12 = Vector512.FusedMultiplyAdd(w, v2, a12); a13 = Vector512.FusedMultiplyAdd(w, v3, a13); a14 = Vector512.FusedMultiplyAdd(w, v4, a14);
            w = Vector512.Create(p[2 * KeyTile + j]);
            a20 = Vector512.FusedMultiplyAdd(w, v0, a20); a21 = Vector512.FusedMultiplyAdd(w, v1, a21); a22 = Vector512.FusedMultiplyAdd(w, v2, a22); a23 = Vector512.FusedMultiplyAdd(w, v3, a23); a24 = Vector512.FusedMultiplyAdd(w, v4, a24);
            w = Vector512.Create(p[3 * KeyTile + j]);
            a30 = Vector512.FusedMultiplyAdd(w, v0, a30); a31 = Vector512.FusedMultiplyAdd(w, v1, a31); a32 = Vector512.FusedMultiplyAdd(w, v2, a32); a33 = Vector512.FusedMultiplyAdd(w, v3, a33); a34 = Vector512.FusedMultiplyAdd(w, v4, a34);
            w = Vector512.Create(p[4 * KeyTile + j]);
            a40 = Vector512.FusedMultiplyAdd(w, v0, a40); a41 = Vector512.FusedMultiplyAdd(w, v1, a41); a42 = Vector512.FusedMultiplyAdd(w, v2, a42); a43 = Vector512.FusedMultiplyAdd(w, v3, a43); a44 = Vector512.FusedMultiplyAdd(w, v4, a44);
        }
        a00.Store(o + 0); a01.Store(o + 16); a02.Store(o + 32); a03.Store(o + 48); a04.Store(o + 64);
        a10.Store(o + 80); a11.Store(o + 96); a12.Store(o + 112); a13.Store(o + 128); a14.Store(o + 144);
        a20.Store(o + 160); a21.Store(o + 176); a22.Store(o + 192); a23.Store(o + 208); a24.Store(o + 224);
        a30.Store(o + 240); a31.Store(o + 256); a32.Store(o + 272); a33.Store(o + 288); a34.Store(o + 304);
        a40.Store(o + 320); a41.Store(o + 336); a42.Store(o + 352); a43.Store(o + 368); a44.Store(o + 384);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PV2x80(float* p, int count, float* v, long ldv, float* o)
    {
        const int D = 80;
        float* o1 = o + D;
        Vector512<float> a00 = Vector512.Load(o), a01 = Vector512.Load(o + 16), a02 = Vector512.Load(o + 32), a03 = Vector512.Load(o + 48), a04 = Vector512.Load(o + 64);
        Vector512<float> a10 = Vector512.Load(o1), a11 = Vector512.Load(o1 + 16), a12 = Vector512.Load(o1 + 32), a13 = Vector512.Load(o1 + 48), a14 = Vector512.Load(o1 + 64);
        for (int j = 0; j < count; j++)
        {
            float* vj = v + j * ldv;
            Vector512<float> v0 = Vector512.Load(vj), v1 = Vector512.Load(vj + 16), v2 = Vector512.Load(vj + 32), v3 = Vector512.Load(vj + 48), v4 = Vector512.Load(vj + 64);
            Vector512<float> w = Vector512.Create(p[j]);
            a00 = Vector512.FusedMultiplyAdd(w, v0, a00); a01 = Vector512.FusedMultiplyAdd(w, v1, a01); a02 = Vector512.FusedMultiplyAdd(w, v2, a02);
            a03 = Vector512.FusedMultiplyAdd(w, v3, a03); a04 = Vector512.FusedMultiplyAdd(w, v4, a04);
            w = Vector512.Create(p[KeyTile + j]);
            a10 = Vector512.FusedMultiplyAdd(w, v0, a10); a11 = Vector512.FusedMultiplyAdd(w, v1, a11); a12 = Vector512.FusedMultiplyAdd(w, v2, a12);
            a13 = Vector512.FusedMultiplyAdd(w, v3, a13); a14 = Vector512.FusedMultiplyAdd(w, v4, a14);
        }
        a00.Store(o); a01.Store(o + 16); a02.Store(o + 32); a03.Store(o + 48); a04.Store(o + 64);
        a10.Store(o1); a11.Store(o1 + 16); a12.Store(o1 + 32); a13.Store(o1 + 48); a14.Store(o1 + 64);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PV4x16(float* p, int count, float* v, long ldv, float* o, int ldo)
    {
        Vector512<float> a0 = Vector512.Load(o), a1 = Vector512.Load(o + ldo), a2 = Vector512.Load(o + 2 * ldo), a3 = Vector512.Load(o + 3 * ldo);
        for (int j = 0; j < count; j++)
        {
            Vector512<float> vj = Vector512.Load(v + j * ldv);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), vj, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[KeyTile + j]), vj, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[2 * KeyTile + j]), vj, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[3 * KeyTile + j]), vj, a3);
        }
        a0.Store(o);
        a1.Store(o + ldo);
        a2.Store(o + 2 * ldo);
        a3.Store(o + 3 * ldo);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PV2x64(float* p, int count, float* v, long ldv, float* o, int ldo)
    {
        float* o1 = o + ldo;
        Vector512<float> a00 = Vector512.Load(o), a01 = Vector512.Load(o + 16), a02 = Vector512.Load(o + 32), a03 = Vector512.Load(o + 48);
        Vector512<float> a10 = Vector512.Load(o1), a11 = Vector512.Load(o1 + 16), a12 = Vector512.Load(o1 + 32), a13 = Vector512.Load(o1 + 48);
        for (int j = 0; j < count; j++)
        {
            float* vj = v + j * ldv;
            Vector512<float> v0 = Vector512.Load(vj), v1 = Vector512.Load(vj + 16), v2 = Vector512.Load(vj + 32), v3 = Vector512.Load(vj + 48);
            Vector512<float> w = Vector512.Create(p[j]);
            a00 = Vector512.FusedMultiplyAdd(w, v0, a00); a01 = Vector512.FusedMultiplyAdd(w, v1, a01);
            a02 = Vector512.FusedMultiplyAdd(w, v2, a02); a03 = Vector512.FusedMultiplyAdd(w, v3, a03);
            w = Vector512.Create(p[KeyTile + j]);
            a10 = Vector512.FusedMultiplyAdd(w, v0, a10); a11 = Vector512.FusedMultiplyAdd(w, v1, a11);
            a12 = Vector512.FusedMultiplyAdd(w, v2, a12); a13 = Vector512.FusedMultiplyAdd(w, v3, a13);
        }
        a00.Store(o); a01.Store(o + 16); a02.Store(o + 32); a03.Store(o + 48);
        a10.Store(o1); a11.Store(o1 + 16); a12.Store(o1 + 32); a13.Store(o1 + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PV1x64(float* p, int count, float* v, long ldv, float* o)
    {
        Vector512<float> a0 = Vector512.Load(o), a1 = Vector512.Load(o + 16), a2 = Vector512.Load(o + 32), a3 = Vector512.Load(o + 48);
        for (int j = 0; j < count; j++)
        {
            float* vj = v + j * ldv;
            Vector512<float> w = Vector512.Create(p[j]);
            a0 = Vector512.FusedMultiplyAdd(w, Vector512.Load(vj), a0);
            a1 = Vector512.FusedMultiplyAdd(w, Vector512.Load(vj + 16), a1);
            a2 = Vector512.FusedMultiplyAdd(w, Vector512.Load(vj + 32), a2);
            a3 = Vector512.FusedMultiplyAdd(w, Vector512.Load(vj + 48), a3);
        }
        a0.Store(o);
        a1.Store(o + 16);
        a2.Store(o + 32);
        a3.Store(o + 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PV1x16(float* p, int count, float* v, long ldv, float* o)
    {
        Vector512<float> a0 = Vector512.Load(o);
        for (int j = 0; j < count; j++)
        {
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[j]), Vector512.Load(v + j * ldv), a0);
        }
        a0.Store(o);
    }
}
