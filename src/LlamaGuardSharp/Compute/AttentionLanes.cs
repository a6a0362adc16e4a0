using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Flash-attention with the rows in vector lanes: for one KV head, 48 (query, head-in-group) rows are three vectors of
/// 16 lanes, and everything is computed transposed — Sᵀ = K·Qᵀ (keys × rows), Pᵀ, and Oᵀ (head dim × rows). Per key
/// tile the online softmax is then purely vertical: the running max, the sum and the rescale factor of 48 rows are
/// three vectors each, with no horizontal reduction, and the rescale of O folds into the P·V kernel's load of its
/// accumulators.
/// </summary>
/// <remarks>
/// <para>Why transposed: in <see cref="AttentionTiled"/> (14 rows × 32 keys per micro-kernel call, the GEMM's shape) every
/// 14 rows stream the whole 40 KiB Kᵀ tile and 40 KiB V tile from L2 (kc = d = 80 is short, so the stream restarts every
/// 1 120 cycles), and the softmax needs per-row horizontal max and sum. Here the score kernel keeps the 48-row Qᵀ panel
/// (d × 48 floats) in L1 and streams only 8 keys × d per call, and the P·V kernel keeps Pᵀ (128 keys × 48) in L1 and
/// streams 8 head-dim columns of V per call: 3.4× less L2 traffic per row, 11 loads per 24 FMAs in both kernels.</para>
/// <para>Each (KV head, group of row panels) is one work item with a fixed key order, so results do not depend on the
/// thread count. Rounding differs from <see cref="AttentionReference"/> only by float32 re-association.</para>
/// </remarks>
internal static unsafe class AttentionLanes
{
    /// <summary>(query, head-in-group) rows per panel: three vectors of 16 lanes.</summary>
    public const int Rows = 48;

    private const int KeyTile = 128;   // keys per online-softmax step (Pᵀ tile 128 × 48 floats = 24 KiB, L1)

    /// <summary>
    /// Key tile under a causal mask: half the tiles on the diagonal are then skipped or cut short instead of computed and
    /// masked; unmasked calls (vision, cross-attention) keep the larger <see cref="KeyTile"/>, where fewer, longer
    /// online-softmax steps are cheaper.
    /// </summary>
    private const int CausalKeyTile = 64;
    private const int KeyPanel = 16;   // keys per packed K panel [d][16]; the score kernel takes 8 of them per call
    private const int DChunk = 8;      // head-dim columns per P·V call (V packed [d/8][keys][8] per KV head)
    private const int PanelsPerItem = 2;

    /// <summary>Whether this kernel takes the call: at least one full panel of rows per KV head, d a multiple of 16.</summary>
    public static bool Supports(int rowsPerKv, int d) => rowsPerKv >= Rows && SupportsHeadDim(d);

    /// <summary>Whether this kernel can take the call at all (fewer rows than a panel only leave lanes idle).</summary>
    public static bool SupportsHeadDim(int d) => d % 16 == 0 && d <= 256 && Avx512F.IsSupported;

    public static void Run(float* q, int queries, int heads, float* k, float* v, int keys, int kvHeads, int d, float scale,
        AttentionMask mask, float* output, ComputeContext context)
    {
        int group = heads / kvHeads;
        int rowsPerKv = queries * group;
        int panels = (rowsPerKv + Rows - 1) / Rows;
        int keyPanels = (keys + KeyPanel - 1) / KeyPanel;
        long kHeadFloats = (long)keyPanels * KeyPanel * d, vHeadFloats = (long)keys * d;
        ScratchBuffer kp = context.Scratch.Rent(kvHeads * kHeadFloats);
        ScratchBuffer vp = context.Scratch.Rent(kvHeads * vHeadFloats);
        try
        {
            nint kpPtr = (nint)kp.Pointer, vpPtr = (nint)vp.Pointer, kPtr = (nint)k, vPtr = (nint)v, qPtr = (nint)q, oPtr = (nint)output;
            // Phase 1: K as [kvHead][keyPanel][d][16] (keys past the end zero) and V as [kvHead][d/8][key][8].
            const int PackPanelsPerItem = 8;
            int packItemsPerHead = (keyPanels + PackPanelsPerItem - 1) / PackPanelsPerItem;
            context.For(kvHeads * packItemsPerHead, item =>
            {
                int g = item / packItemsPerHead, kp0 = item % packItemsPerHead * PackPanelsPerItem, kp1 = Math.Min(keyPanels, kp0 + PackPanelsPerItem);
                for (int panel = kp0; panel < kp1; panel++)
                {
                    PackKeys((float*)kPtr, keys, kvHeads, d, g, panel, (float*)kpPtr + g * kHeadFloats + (long)panel * KeyPanel * d);
                }
                float* vHead = (float*)vpPtr + g * vHeadFloats;
                for (int j = kp0 * KeyPanel, j1 = Math.Min(keys, kp1 * KeyPanel); j < j1; j++)
                {
                    float* src = (float*)vPtr + ((long)j * kvHeads + g) * d;
                    for (int c = 0; c < d / DChunk; c++)
                    {
                        Vector256.Load(src + c * DChunk).Store(vHead + ((long)c * keys + j) * DChunk);
                    }
                }
            });
            // Phase 2: one item per (KV head, group of row panels); scores in base-2 units (log2 e folded into the Q scale).
            float scaleLog2 = scale * 1.44269504088896341f;
            int groups = (panels + PanelsPerItem - 1) / PanelsPerItem;
            context.For(kvHeads * groups, item =>
            {
                int g = item / groups, first = item % groups * PanelsPerItem * Rows;
                ProcessPanels((float*)qPtr, heads, group, g, first, Math.Min(PanelsPerItem * Rows, rowsPerKv - first),
                    (float*)kpPtr + g * kHeadFloats, (float*)vpPtr + g * vHeadFloats, keys, d, scaleLog2, mask, (float*)oPtr);
            });
        }
        finally
        {
            context.Scratch.Return(kp);
            context.Scratch.Return(vp);
        }
    }

    /// <summary>Keys [16·panel, +16) of KV head g as [d][16] (16 × 16 register transposes; missing keys are zero).</summary>
    private static void PackKeys(float* k, int keys, int kvHeads, int d, int g, int panel, float* dst)
    {
        int j0 = panel * KeyPanel, count = Math.Min(KeyPanel, keys - j0);
        long ldk = (long)kvHeads * d;
        float* src = k + ((long)j0 * kvHeads + g) * d;
        for (int p = 0; p < d; p += 16)
        {
            float* s0 = src + p;
            Transpose16x16.Store(
                Row(s0, 0, count, ldk), Row(s0, 1, count, ldk), Row(s0, 2, count, ldk), Row(s0, 3, count, ldk),
                Row(s0, 4, count, ldk), Row(s0, 5, count, ldk), Row(s0, 6, count, ldk), Row(s0, 7, count, ldk),
                Row(s0, 8, count, ldk), Row(s0, 9, count, ldk), Row(s0, 10, count, ldk), Row(s0, 11, count, ldk),
                Row(s0, 12, count, ldk), Row(s0, 13, count, ldk), Row(s0, 14, count, ldk), Row(s0, 15, count, ldk),
                dst + (long)p * KeyPanel, KeyPanel, Vector512<float>.AllBitsSet);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row(float* s0, int i, int count, long ld) => i < count ? Vector512.Load(s0 + i * ld) : Vector512<float>.Zero;

    /// <summary>
    /// Rows [first, first + rows) of KV head g's (query, head-in-group) sequence as up to <see cref="PanelsPerItem"/>
    /// panels of 48 that walk the key tiles together (each K/V tile is fetched into L2 once for all of them).
    /// </summary>
    [SkipLocalsInit]
    private static void ProcessPanels(float* q, int heads, int group, int g, int first, int rows, float* kHead, float* vHead,
        int keys, int d, float scale, AttentionMask mask, float* output)
    {
        int panelCount = (rows + Rows - 1) / Rows;
        int tStride = d * Rows;
        float* qtRaw = stackalloc float[panelCount * tStride + 16];
        float* otRaw = stackalloc float[panelCount * tStride + 16];
        float* sRaw = stackalloc float[KeyTile * Rows + 16];
        float* statsRaw = stackalloc float[panelCount * 2 * Rows + 2 * Rows + 16];
        float* qtAll = Align(qtRaw), otAll = Align(otRaw), s = Align(sRaw);
        // Per row (panel-major): running max and running sum; per step: the rescale factors, and the mask's lane flags.
        float* runMax = Align(statsRaw), runSum = runMax + panelCount * Rows, alpha = runSum + panelCount * Rows, lanes = alpha + Rows;
        new Span<float>(runMax, panelCount * Rows).Fill(float.NegativeInfinity);
        new Span<float>(runSum, panelCount * Rows).Clear();
        new Span<float>(otAll, panelCount * tStride).Clear();
        for (int panel = 0; panel < panelCount; panel++)
        {
            PackQueries(q, heads, group, g, first + panel * Rows, Math.Min(Rows, rows - panel * Rows), d, scale, qtAll + panel * tStride);
        }
        int keyTile = mask.Kind is AttentionMaskKind.Causal or AttentionMaskKind.CausalTree ? CausalKeyTile : KeyTile;
        for (int j0 = 0; j0 < keys; j0 += keyTile)
        {
            int count = Math.Min(keyTile, keys - j0);
            float* kTile = kHead + (long)j0 * d; // key panels of 16 are [d][16]: panel j0/16 starts at j0·d
            for (int panel = 0; panel < panelCount; panel++)
            {
                int r0 = first + panel * Rows, panelRows = Math.Min(Rows, rows - panel * Rows);
                MaskTileState state = mask.Classify(r0 / group, (r0 + panelRows - 1) / group, j0, count);
                if (state == MaskTileState.NoneVisible)
                {
                    continue;
                }
                float* qt = qtAll + panel * tStride, ot = otAll + panel * tStride;
                for (int j = 0; j < count; j += 8)
                {
                    Scores8x48(qt, kTile + (long)(j / KeyPanel) * KeyPanel * d + j % KeyPanel, d, s + j * Rows);
                }
                if (state == MaskTileState.Mixed)
                {
                    HideInvisible(mask, s, r0, panelRows, group, j0, count, lanes);
                }
                SoftmaxStep(s, count, runMax + panel * Rows, runSum + panel * Rows, alpha);
                for (int c = 0; c < d; c += DChunk)
                {
                    PV8x48(s, count, vHead + ((long)(c / DChunk) * keys + j0) * DChunk, ot + c * Rows, alpha);
                }
            }
        }
        float* blockRaw = stackalloc float[16 * 16 + 16];
        float* block = Align(blockRaw);
        for (int panel = 0; panel < panelCount; panel++)
        {
            int r0 = first + panel * Rows, panelRows = Math.Min(Rows, rows - panel * Rows);
            float* ot = otAll + panel * tStride, sum = runSum + panel * Rows;
            for (int lane0 = 0; lane0 < panelRows; lane0 += 16)
            {
                for (int p = 0; p < d; p += 16)
                {
                    float* src = ot + p * Rows + lane0;
                    Transpose16x16.Store(
                        Vector512.Load(src), Vector512.Load(src + Rows), Vector512.Load(src + 2 * Rows), Vector512.Load(src + 3 * Rows),
                        Vector512.Load(src + 4 * Rows), Vector512.Load(src + 5 * Rows), Vector512.Load(src + 6 * Rows), Vector512.Load(src + 7 * Rows),
                        Vector512.Load(src + 8 * Rows), Vector512.Load(src + 9 * Rows), Vector512.Load(src + 10 * Rows), Vector512.Load(src + 11 * Rows),
                        Vector512.Load(src + 12 * Rows), Vector512.Load(src + 13 * Rows), Vector512.Load(src + 14 * Rows), Vector512.Load(src + 15 * Rows),
                        block, 16, Vector512<float>.AllBitsSet);
                    for (int lane = lane0, end = Math.Min(panelRows, lane0 + 16); lane < end; lane++)
                    {
                        int row = r0 + lane, i = row / group, h = g * group + row % group;
                        float l = sum[lane];
                        // A row that sees no key gets zeros (its O and sum are 0).
                        Vector512<float> inv = Vector512.Create(l == 0f ? 0f : 1f / l);
                        (Vector512.Load(block + (lane - lane0) * 16) * inv).Store(output + ((long)i * heads + h) * d + p);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Qᵀ panel [d][48] of rows [row0, row0 + count) of KV head g (times <paramref name="scale"/>); rows past count are zero.
    /// </summary>
    private static void PackQueries(float* q, int heads, int group, int g, int row0, int count, int d, float scale, float* qt)
    {
        Vector512<float> sv = Vector512.Create(scale);
        for (int lane0 = 0; lane0 < Rows; lane0 += 16)
        {
            float* r0 = RowStart(q, heads, group, g, row0 + lane0 + 0, count - lane0 > 0, d);
            float* r1 = RowStart(q, heads, group, g, row0 + lane0 + 1, count - lane0 > 1, d);
            float* r2 = RowStart(q, heads, group, g, row0 + lane0 + 2, count - lane0 > 2, d);
            float* r3 = RowStart(q, heads, group, g, row0 + lane0 + 3, count - lane0 > 3, d);
            float* r4 = RowStart(q, heads, group, g, row0 + lane0 + 4, count - lane0 > 4, d);
            float* r5 = RowStart(q, heads, group, g, row0 + lane0 + 5, count - lane0 > 5, d);
            float* r6 = RowStart(q, heads, group, g, row0 + lane0 + 6, count - lane0 > 6, d);
            float* r7 = RowStart(q, heads, group, g, row0 + lane0 + 7, count - lane0 > 7, d);
            float* r8 = RowStart(q, heads, group, g, row0 + lane0 + 8, count - lane0 > 8, d);
            float* r9 = RowStart(q, heads, group, g, row0 + lane0 + 9, count - lane0 > 9, d);
            float* r10 = RowStart(q, heads, group, g, row0 + lane0 + 10, count - lane0 > 10, d);
            float* r11 = RowStart(q, heads, group, g, row0 + lane0 + 11, count - lane0 > 11, d);
            float* r12 = RowStart(q, heads, group, g, row0 + lane0 + 12, count - lane0 > 12, d);
            float* r13 = RowStart(q, heads, group, g, row0 + lane0 + 13, count - lane0 > 13, d);
            float* r14 = RowStart(q, heads, group, g, row0 + lane0 + 14, count - lane0 > 14, d);
            float* r15 = RowStart(q, heads, group, g, row0 + lane0 + 15, count - lane0 > 15, d);
            for (int p = 0; p < d; p += 16)
            {
                Transpose16x16.Store(
                    Load(r0, p) * sv, Load(r1, p) * sv, Load(r2, p) * sv, Load(r3, p) * sv,
                    Load(r4, p) * sv, Load(r5, p) * sv, Load(r6, p) * sv, Load(r7, p) * sv,
                    Load(r8, p) * sv, Load(r9, p) * sv, Load(r10, p) * sv, Load(r11, p) * sv,
                    Load(r12, p) * sv, Load(r13, p) * sv, Load(r14, p) * sv, Load(r15, p) * sv,
                    qt + (long)p * Rows + lane0, Rows, Vector512<float>.AllBitsSet);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* RowStart(float* q, int heads, int group, int g, int row, bool exists, int d) =>
        exists ? q + ((long)(row / group) * heads + g * group + row % group) * d : null;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load(float* row, int p) => row == null ? Vector512<float>.Zero : Vector512.Load(row + p);

    /// <summary>
    /// Sets Sᵀ[j][lane] = −inf where key j0 + j is hidden from the lane's query, for a tile the mask classified as mixed
    /// (the causal diagonal, pad rows × pad keys, block edges). Vectorised per key over the 48 lanes: a scalar pass per row
    /// cost as much as the tile's FMAs on the causal diagonal.
    /// </summary>
    private static void HideInvisible(AttentionMask mask, float* s, int r0, int panelRows, int group, int j0, int count, float* lanes)
    {
        Vector512<float> negInf = Vector512.Create(float.NegativeInfinity);
        switch (mask.Kind)
        {
            case AttentionMaskKind.Causal:
            case AttentionMaskKind.CausalTree:
                {
                    // Lane L sees keys ≤ offset + its query (exact in float32: positions < 2^24).
                    for (int lane = 0; lane < Rows; lane++)
                    {
                        lanes[lane] = mask.QueryOffset + (r0 + Math.Min(lane, panelRows - 1)) / group;
                    }
                    Vector512<float> l0 = Vector512.Load(lanes), l1 = Vector512.Load(lanes + 16), l2 = Vector512.Load(lanes + 32);
                    for (int j = 0; j < count; j++)
                    {
                        Vector512<float> key = Vector512.Create((float)(j0 + j));
                        float* sj = s + j * Rows;
                        Vector512.ConditionalSelect(Vector512.GreaterThan(key, l0), negInf, Vector512.Load(sj)).Store(sj);
                        Vector512.ConditionalSelect(Vector512.GreaterThan(key, l1), negInf, Vector512.Load(sj + 16)).Store(sj + 16);
                        Vector512.ConditionalSelect(Vector512.GreaterThan(key, l2), negInf, Vector512.Load(sj + 32)).Store(sj + 32);
                    }
                    if (mask.Kind == AttentionMaskKind.CausalTree)
                    {
                        HideOtherBranches(mask, s, r0, panelRows, group, j0, count, lanes);
                    }
                    return;
                }
            case AttentionMaskKind.PadPairs:
                {
                    // Only pad keys are hidden, and only from pad queries.
                    ReadOnlySpan<bool> pad = mask.PadFlags;
                    for (int lane = 0; lane < Rows; lane++)
                    {
                        lanes[lane] = lane < panelRows && pad[(r0 + lane) / group] ? -1f : 0f;
                    }
                    Vector512<float> p0 = Vector512.LessThan(Vector512.Load(lanes), Vector512<float>.Zero);
                    Vector512<float> p1 = Vector512.LessThan(Vector512.Load(lanes + 16), Vector512<float>.Zero);
                    Vector512<float> p2 = Vector512.LessThan(Vector512.Load(lanes + 32), Vector512<float>.Zero);
                    for (int j = 0; j < count; j++)
                    {
                        if (pad[j0 + j])
                        {
                            float* sj = s + j * Rows;
                            Vector512.ConditionalSelect(p0, negInf, Vector512.Load(sj)).Store(sj);
                            Vector512.ConditionalSelect(p1, negInf, Vector512.Load(sj + 16)).Store(sj + 16);
                            Vector512.ConditionalSelect(p2, negInf, Vector512.Load(sj + 32)).Store(sj + 32);
                        }
                    }
                    return;
                }
            case AttentionMaskKind.KeyBlocks:
                {
                    ReadOnlySpan<bool> allowed = mask.AllowedBlocks;
                    int blocks = mask.BlocksPerQuery, size = mask.BlockSize;
                    for (int j = 0; j < count;)
                    {
                        int b = (j0 + j) / size, end = Math.Min(count, (b + 1) * size - j0);
                        for (int lane = 0; lane < Rows; lane++)
                        {
                            lanes[lane] = lane < panelRows && !allowed[(r0 + lane) / group * blocks + b] ? -1f : 0f;
                        }
                        Vector512<float> h0 = Vector512.LessThan(Vector512.Load(lanes), Vector512<float>.Zero);
                        Vector512<float> h1 = Vector512.LessThan(Vector512.Load(lanes + 16), Vector512<float>.Zero);
                        Vector512<float> h2 = Vector512.LessThan(Vector512.Load(lanes + 32), Vector512<float>.Zero);
                        for (; j < end; j++)
                        {
                            float* sj = s + j * Rows;
                            Vector512.ConditionalSelect(h0, negInf, Vector512.Load(sj)).Store(sj);
                            Vector512.ConditionalSelect(h1, negInf, Vector512.Load(sj + 16)).Store(sj + 16);
                            Vector512.ConditionalSelect(h2, negInf, Vector512.Load(sj + 32)).Store(sj + 32);
                        }
                    }
                    return;
                }
            default:
                // None is never classified as mixed; a new mask kind needs its lane form here.
                throw new InvalidOperationException($"Attention mask kind {mask.Kind} has no per-lane masking.");
        }
    }

    /// <summary>
    /// For a <see cref="AttentionMaskKind.CausalTree"/> mask, after the causal limit: hides, per tree key of the tile, the
    /// lanes whose query is a tree token that does not descend from it (a draft tree has a handful of tokens, so this
    /// per-lane scalar pass touches a few keys of one tile per panel).
    /// </summary>
    private static void HideOtherBranches(AttentionMask mask, float* s, int r0, int panelRows, int group, int j0, int count, float* lanes)
    {
        int firstTreeQuery = mask.TreeStart - mask.QueryOffset;
        if ((r0 + panelRows - 1) / group < firstTreeQuery)
        {
            return; // no tree query in this panel
        }
        Vector512<float> negInf = Vector512.Create(float.NegativeInfinity);
        for (int j = Math.Max(0, mask.TreeStart - j0); j < count; j++)
        {
            int u = j0 + j - mask.TreeStart;
            for (int lane = 0; lane < Rows; lane++)
            {
                int t = (r0 + Math.Min(lane, panelRows - 1)) / group - firstTreeQuery;
                lanes[lane] = t >= 0 && t >= u && !mask.SeesTreeToken(t, u) ? -1f : 0f;
            }
            float* sj = s + j * Rows;
            Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Load(lanes), Vector512<float>.Zero), negInf, Vector512.Load(sj)).Store(sj);
            Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Load(lanes + 16), Vector512<float>.Zero), negInf, Vector512.Load(sj + 16)).Store(sj + 16);
            Vector512.ConditionalSelect(Vector512.LessThan(Vector512.Load(lanes + 32), Vector512<float>.Zero), negInf, Vector512.Load(sj + 32)).Store(sj + 32);
        }
    }

    /// <summary>
    /// One online-softmax step on Sᵀ (count × 48, base-2 units, hidden keys −inf): new running max per lane, Pᵀ = 2^(S −
    /// max) in place, running sum rescaled and extended, and <paramref name="alpha"/> = 2^(old max − new max) for the
    /// P·V kernel to rescale O with. Lanes that have seen no visible key keep max −inf, sum 0 (alpha 0, O stays 0).
    /// </summary>
    private static void SoftmaxStep(float* s, int count, float* runMax, float* runSum, float* alpha)
    {
        Vector512<float> negInf = Vector512.Create(float.NegativeInfinity);
        Vector512<float> m0 = negInf, m1 = negInf, m2 = negInf, n0 = negInf, n1 = negInf, n2 = negInf;
        int j = 0;
        for (; j + 2 <= count; j += 2)
        {
            float* sj = s + j * Rows;
            m0 = Vector512.Max(m0, Vector512.Load(sj)); m1 = Vector512.Max(m1, Vector512.Load(sj + 16)); m2 = Vector512.Max(m2, Vector512.Load(sj + 32));
            n0 = Vector512.Max(n0, Vector512.Load(sj + 48)); n1 = Vector512.Max(n1, Vector512.Load(sj + 64)); n2 = Vector512.Max(n2, Vector512.Load(sj + 80));
        }
        if (j < count)
        {
            float* sj = s + j * Rows;
            m0 = Vector512.Max(m0, Vector512.Load(sj)); m1 = Vector512.Max(m1, Vector512.Load(sj + 16)); m2 = Vector512.Max(m2, Vector512.Load(sj + 32));
        }
        Vector512<float> old0 = Vector512.Load(runMax), old1 = Vector512.Load(runMax + 16), old2 = Vector512.Load(runMax + 32);
        Vector512<float> new0 = Vector512.Max(old0, Vector512.Max(m0, n0)), new1 = Vector512.Max(old1, Vector512.Max(m1, n1)), new2 = Vector512.Max(old2, Vector512.Max(m2, n2));
        new0.Store(runMax); new1.Store(runMax + 16); new2.Store(runMax + 32);
        // Offsets: the new max, or 0 for lanes that still see nothing (their scores are all −inf, so P = 0, not NaN).
        Vector512<float> off0 = Vector512.ConditionalSelect(Vector512.Equals(new0, negInf), Vector512<float>.Zero, new0);
        Vector512<float> off1 = Vector512.ConditionalSelect(Vector512.Equals(new1, negInf), Vector512<float>.Zero, new1);
        Vector512<float> off2 = Vector512.ConditionalSelect(Vector512.Equals(new2, negInf), Vector512<float>.Zero, new2);
        Vector512<float> a0 = VectorExp.Exp2NonPositive(old0 - off0), a1 = VectorExp.Exp2NonPositive(old1 - off1), a2 = VectorExp.Exp2NonPositive(old2 - off2);
        a0.Store(alpha); a1.Store(alpha + 16); a2.Store(alpha + 32);
        Vector512<float> s0 = Vector512<float>.Zero, s1 = Vector512<float>.Zero, s2 = Vector512<float>.Zero;
        for (j = 0; j < count; j++)
        {
            float* sj = s + j * Rows;
            Vector512<float> e0 = VectorExp.Exp2NonPositive(Vector512.Load(sj) - off0);
            Vector512<float> e1 = VectorExp.Exp2NonPositive(Vector512.Load(sj + 16) - off1);
            Vector512<float> e2 = VectorExp.Exp2NonPositive(Vector512.Load(sj + 32) - off2);
            e0.Store(sj); e1.Store(sj + 16); e2.Store(sj + 32);
            s0 += e0; s1 += e1; s2 += e2;
        }
        (Vector512.Load(runSum) * a0 + s0).Store(runSum);
        (Vector512.Load(runSum + 16) * a1 + s1).Store(runSum + 16);
        (Vector512.Load(runSum + 32) * a2 + s2).Store(runSum + 32);
    }

    /// <summary>
    /// Sᵀ[j][0..48] = Σ_p K[j][p] · Qᵀ[p][0..48] for 8 keys: <paramref name="kp"/> points at key j's column in a [d][16]
    /// K panel, <paramref name="qt"/> is the L1-resident [d][48] Qᵀ panel. 24 accumulators, per p 3 loads + 8 broadcasts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores8x48(float* qt, float* kp, int d, float* s)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        Vector512<float> a40 = default, a41 = default, a42 = default, a50 = default, a51 = default, a52 = default;
        Vector512<float> a60 = default, a61 = default, a62 = default, a70 = default, a71 = default, a72 = default;
        for (int p = 0; p < d; p++)
        {
            Vector512<float> q0 = Vector512.Load(qt), q1 = Vector512.Load(qt + 16), q2 = Vector512.Load(qt + 32);
            Vector512<float> kb;
            kb = Vector512.Create(kp[0]); a00 = Vector512.FusedMultiplyAdd(kb, q0, a00); a01 = Vector512.FusedMultiplyAdd(kb, q1, a01); a02 = Vector512.FusedMultiplyAdd(kb, q2, a02);
            kb = Vector512.Create(kp[1]); a10 = Vector512.FusedMultiplyAdd(kb, q0, a10); a11 = Vector512.FusedMultiplyAdd(kb, q1, a11); a12 = Vector512.FusedMultiplyAdd(kb, q2, a12);
            kb = Vector512.Create(kp[2]); a20 = Vector512.FusedMultiplyAdd(kb, q0, a20); a21 = Vector512.FusedMultiplyAdd(kb, q1, a21); a22 = Vector512.FusedMultiplyAdd(kb, q2, a22);
            kb = Vector512.Create(kp[3]); a30 = Vector512.FusedMultiplyAdd(kb, q0, a30); a31 = Vector512.FusedMultiplyAdd(kb, q1, a31); a32 = Vector512.FusedMultiplyAdd(kb, q2, a32);
            kb = Vector512.Create(kp[4]); a40 = Vector512.FusedMultiplyAdd(kb, q0, a40); a41 = Vector512.FusedMultiplyAdd(kb, q1, a41); a42 = Vector512.FusedMultiplyAdd(kb, q2, a42);
            kb = Vector512.Create(kp[5]); a50 = Vector512.FusedMultiplyAdd(kb, q0, a50); a51 = Vector512.FusedMultiplyAdd(kb, q1, a51); a52 = Vector512.FusedMultiplyAdd(kb, q2, a52);
            kb = Vector512.Create(kp[6]); a60 = Vector512.FusedMultiplyAdd(kb, q0, a60); a61 = Vector512.FusedMultiplyAdd(kb, q1, a61); a62 = Vector512.FusedMultiplyAdd(kb, q2, a62);
            kb = Vector512.Create(kp[7]); a70 = Vector512.FusedMultiplyAdd(kb, q0, a70); a71 = Vector512.FusedMultiplyAdd(kb, q1, a71); a72 = Vector512.FusedMultiplyAdd(kb, q2, a72);
            qt += Rows;
            kp += KeyPanel;
        }
        a00.Store(s); a01.Store(s + 16); a02.Store(s + 32);
        a10.Store(s + 48); a11.Store(s + 64); a12.Store(s + 80);
        a20.Store(s + 96); a21.Store(s + 112); a22.Store(s + 128);
        a30.Store(s + 144); a31.Store(s + 160); a32.Store(s + 176);
        a40.Store(s + 192); a41.Store(s + 208); a42.Store(s + 224);
        a50.Store(s + 240); a51.Store(s + 256); a52.Store(s + 272);
        a60.Store(s + 288); a61.Store(s + 304); a62.Store(s + 320);
        a70.Store(s + 336); a71.Store(s + 352); a72.Store(s + 368);
    }

    /// <summary>
    /// Oᵀ[c..c+8][0..48] = alpha ⊙ Oᵀ + Σ_j V[j][c..c+8] ⊗ Pᵀ[j][0..48] over the tile's keys: <paramref name="vc"/> is the
    /// tile's [key][8] slice of V's column chunk, <paramref name="pt"/> the L1-resident Pᵀ tile. The online-softmax
    /// rescale of O is the multiply on loading the accumulators.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PV8x48(float* pt, int count, float* vc, float* ot, float* alpha)
    {
        Vector512<float> al0 = Vector512.Load(alpha), al1 = Vector512.Load(alpha + 16), al2 = Vector512.Load(alpha + 32);
        Vector512<float> a00 = Vector512.Load(ot) * al0, a01 = Vector512.Load(ot + 16) * al1, a02 = Vector512.Load(ot + 32) * al2;
        Vector512<float> a10 = Vector512.Load(ot + 48) * al0, a11 = Vector512.Load(ot + 64) * al1, a12 = Vector512.Load(ot + 80) * al2;
        Vector512<float> a20 = Vector512.Load(ot + 96) * al0, a21 = Vector512.Load(ot + 112) * al1, a22 = Vector512.Load(ot + 128) * al2;
        Vector512<float> a30 = Vector512.Load(ot + 144) * al0, a31 = Vector512.Load(ot + 160) * al1, a32 = Vector512.Load(ot + 176) * al2;
        Vector512<float> a40 = Vector512.Load(ot + 192) * al0, a41 = Vector512.Load(ot + 208) * al1, a42 = Vector512.Load(ot + 224) * al2;
        Vector512<float> a50 = Vector512.Load(ot + 240) * al0, a51 = Vector512.Load(ot + 256) * al1, a52 = Vector512.Load(ot + 272) * al2;
        Vector512<float> a60 = Vector512.Load(ot + 288) * al0, a61 = Vector512.Load(ot + 304) * al1, a62 = Vector512.Load(ot + 320) * al2;
        Vector512<float> a70 = Vector512.Load(ot + 336) * al0, a71 = Vector512.Load(ot + 352) * al1, a72 = Vector512.Load(ot + 368) * al2;
        for (int j = 0; j < count; j++)
        {
            Vector512<float> p0 = Vector512.Load(pt), p1 = Vector512.Load(pt + 16), p2 = Vector512.Load(pt + 32);
            Vector512<float> vb;
            vb = Vector512.Create(vc[0]); a00 = Vector512.FusedMultiplyAdd(vb, p0, a00); a01 = Vector512.FusedMultiplyAdd(vb, p1, a01); a02 = Vector512.FusedMultiplyAdd(vb, p2, a02);
            vb = Vector512.Create(vc[1]); a10 = Vector512.FusedMultiplyAdd(vb, p0, a10); a11 = Vector512.FusedMultiplyAdd(vb, p1, a11); a12 = Vector512.FusedMultiplyAdd(vb, p2, a12);
            vb = Vector512.Create(vc[2]); a20 = Vector512.FusedMultiplyAdd(vb, p0, a20); a21 = Vector512.FusedMultiplyAdd(vb, p1, a21); a22 = Vector512.FusedMultiplyAdd(vb, p2, a22);
            vb = Vector512.Create(vc[3]); a30 = Vector512.FusedMultiplyAdd(vb, p0, a30); a31 = Vector512.FusedMultiplyAdd(vb, p1, a31); a32 = Vector512.FusedMultiplyAdd(vb, p2, a32);
            vb = Vector512.Create(vc[4]); a40 = Vector512.FusedMultiplyAdd(vb, p0, a40); a41 = Vector512.FusedMultiplyAdd(vb, p1, a41); a42 = Vector512.FusedMultiplyAdd(vb, p2, a42);
            vb = Vector512.Create(vc[5]); a50 = Vector512.FusedMultiplyAdd(vb, p0, a50); a51 = Vector512.FusedMultiplyAdd(vb, p1, a51); a52 = Vector512.FusedMultiplyAdd(vb, p2, a52);
            vb = Vector512.Create(vc[6]); a60 = Vector512.FusedMultiplyAdd(vb, p0, a60); a61 = Vector512.FusedMultiplyAdd(vb, p1, a61); a62 = Vector512.FusedMultiplyAdd(vb, p2, a62);
            vb = Vector512.Create(vc[7]); a70 = Vector512.FusedMultiplyAdd(vb, p0, a70); a71 = Vector512.FusedMultiplyAdd(vb, p1, a71); a72 = Vector512.FusedMultiplyAdd(vb, p2, a72);
            pt += Rows;
            vc += DChunk;
        }
        a00.Store(ot); a01.Store(ot + 16); a02.Store(ot + 32);
        a10.Store(ot + 48); a11.Store(ot + 64); a12.Store(ot + 80);
        a20.Store(ot + 96); a21.Store(ot + 112); a22.Store(ot + 128);
        a30.Store(ot + 144); a31.Store(ot + 160); a32.Store(ot + 176);
        a40.Store(ot + 192); a41.Store(ot + 208); a42.Store(ot + 224);
        a50.Store(ot + 240); a51.Store(ot + 256); a52.Store(ot + 272);
        a60.Store(ot + 288); a61.Store(ot + 304); a62.Store(ot + 320);
        a70.Store(ot + 336); a71.Store(ot + 352); a72.Store(ot + 368);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* Align(float* p) => (float*)(((nint)p + 63) & ~(nint)63);
}
