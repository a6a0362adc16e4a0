using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// The cache-blocked GEMM for M ≥ <see cref="Gemm.PackedMinRows"/>: C = A·Wᵀ (+ bias) with W widened to float32 while
/// it is packed. A is packed into 14-row micro-panels and B (= Wᵀ) into 32-column micro-panels, per K block
/// (≤ <see cref="KBlock"/>). The work items are blocks of C (MC rows × NC columns) that walk *all* K blocks in order
/// while their C block stays in L2, so C never goes back to memory between K blocks; inside an item each A
/// micro-panel is swept across the chunk's B micro-panels by the 14×32 micro-kernel.
/// </summary>
/// <remarks>
/// <para>Why C stays in L2: the former order (all items of K block b, then a barrier, then block b + 1) read and wrote
/// the whole of C once per K block: 15 × 2 × 105 MB for the projector, and each micro-kernel call started by waiting
/// for 28 C lines from DRAM (figures: docs/performance.md).</para>
/// <para>A is packed into a ring of three row-block slots, per (row block, K block) in parts of 8 panels, by work items
/// that run in a fixed start order among the compute items (<see cref="Schedule"/>), so one thread packs the next row block while the other
/// computes. Many row blocks (vision, projector): B is packed for every K block up front (N·K floats). One row block
/// (M ≤ <see cref="SingleRowBlockMaxRows"/>, text prefill): every B micro-panel is used by exactly one item, so each
/// item packs its own B chunk per K block into a small buffer just before using it (writing a whole packed B
/// to DRAM cost ≈ 15 ms per 4096 × 4096 weight).</para>
/// <para>Determinism: every C element is produced by exactly one micro-kernel call per K block, K blocks in order, each
/// continuing the float32 sum where the previous one stored it, so the reduction runs over k in order: it depends on
/// neither the thread count, the scheduling, KC nor M.</para>
/// </remarks>
internal static unsafe class GemmPacked
{
    /// <summary>
    /// KC (upper bound; K is split into near-equal blocks, multiples of 16): K = 1280 in one block, 4096 in 2 of 2048,
    /// 5120 in 3, 14336 in 7. Why this large: in one row block each item packs its own B chunk per K block straight from
    /// the weight rows, and shorter blocks read each row in pieces too short for the hardware prefetchers and repeat the
    /// item's first-sweep costs per block; one K block for the whole of K made the narrow text k/v slower. The chunk's
    /// packed B then exceeds a 1 MiB L2 and partly streams from L3, which costs nothing measurable (A/B figures:
    /// docs/performance-log.md). KC never changes a bit of the result: the micro-kernel carries each C element's float32
    /// sum through the K blocks in k order (C is stored and reloaded exactly).
    /// </summary>
    public const int KBlock = 2048;

    /// <summary>MC: rows per work item when there are several row blocks (vision, projector).</summary>
    public const int MBlock = 32 * GemmMicroKernel.Rows;

    /// <summary>NC: columns per work item; with MC = 448 the C block is 448·256·4 B = 448 KiB, which stays in L2 while the
    /// item walks the K blocks (a K block of the B chunk is up to 2 MiB and partly streams from L3, see
    /// <see cref="KBlock"/>).</summary>
    public const int NBlock = 256;

    /// <summary>
    /// NC when all rows fit one item (M ≤ SingleRowBlockMaxRows, text prefill): the C block is M·NC floats (≈ 200 KiB at
    /// M = 400) and the chunk's packed B up to 1 MiB per K block; every item streams the whole packed A (M·K floats, from
    /// L3) once.
    /// </summary>
    public const int NBlockSingleRowBlock = 128;

    /// <summary>
    /// Up to this many rows (text prefills of long prompts) the GEMM keeps one row block, so each item packs its own B
    /// chunk per K block, instead of MC-row blocks that need B packed whole up front: for the text weights that is
    /// 100–470 MB written to DRAM and read back per call (A/B figures: docs/performance-log.md). The C block of an item
    /// is then M × 128 floats (≤ 512 KiB).
    /// </summary>
    public const int SingleRowBlockMaxRows = 1024;

    /// <summary>Packed-A size (bytes) above which a one-row-block GEMM uses 2 × <see cref="NBlockSingleRowBlock"/> columns per item.</summary>
    private const long LargePackedA = 16L << 20;

    private const int MR = GemmMicroKernel.Rows;
    private const int ShortPanelRows = GemmMicroKernel.ShortRows;
    private const int NR = GemmMicroKernel.Cols;
    private const int PackGroup = 8; // micro-panels per packing work item
    private const int PackAPanels = 8; // A micro-panels per packing work item

    public static void Run(float* a, int m, WeightMatrix w, float* bias, float* c, ComputeContext context, bool geluOfA = false) =>
        Run(a, m, [new GemmTarget(w, c, bias)], context, geluOfA);

    /// <summary>
    /// C_t = A·W_tᵀ (+ bias_t) for every target t: one GEMM over the targets' weights side by side (N = Σ N_t, same K),
    /// so A is packed once and the work items cover all of N (e.g. q, k and v of a layer in one call). Each output
    /// element is reduced exactly as by a call with its target alone.
    /// </summary>
    /// <param name="geluOfA">Multiply GELU(A) instead of A: the activation is applied while A is packed (vision fc2),
    /// which saves a pass over the activations; needs K % 16 == 0 so that every value is evaluated in the same 16-lane
    /// vector as <see cref="Gelu.Apply(ReadOnlySpan{float}, Span{float}, ComputeContext)"/> would (bit-identical).</param>
    public static void Run(float* a, int m, GemmTarget[] targets, ComputeContext context, bool geluOfA = false) =>
        Run<ActiveGemmSteps>(a, m, targets, context, geluOfA);

    /// <summary>The schedule, with its steps (packing, macro tiles, waits, micro-kernel calls) taken from
    /// <typeparamref name="TSteps"/>: <see cref="GemmSteps"/> calls them directly, the diagnostic build's wrapper
    /// (TimedGemmSteps) times them; the steps' arithmetic is the same either way.</summary>
    private static void Run<TSteps>(float* a, int m, GemmTarget[] targets, ComputeContext context, bool geluOfA)
        where TSteps : struct, IGemmSteps
    {
        int k = targets[0].Weight.Cols;
        if (geluOfA && k % 16 != 0)
        {
            throw new ArgumentException($"GELU while packing needs K % 16 == 0 (K = {k}).", nameof(geluOfA));
        }
        int mPanels = (m + MR - 1) / MR;
        // Global B panel q belongs to the target t with panelStart[t] <= q < panelStart[t + 1].
        int[] panelStart = new int[targets.Length + 1];
        for (int t = 0; t < targets.Length; t++)
        {
            panelStart[t + 1] = panelStart[t] + (targets[t].Weight.Rows + NR - 1) / NR;
        }
        int nPanels = panelStart[^1];
        // Up to SingleRowBlockMaxRows rows all rows form one row block (B packed per item, never written out whole).
        int rowPanelsPerItem = m <= SingleRowBlockMaxRows ? Math.Max(MBlock / MR, mPanels) : MBlock / MR;
        int mBlocks = (mPanels + rowPanelsPerItem - 1) / rowPanelsPerItem;
        bool packBInItem = mBlocks == 1;
        // Near-equal K blocks of at most KBlock (e.g. 5120 -> 2 × 1712 + 1696, 7680 -> 4 × 1920), so no block is a short,
        // inefficient remainder; multiples of 16 keep the vector packing loops free of scalar tails.
        int kBlocks = (k + KBlock - 1) / KBlock;
        int kcMax = Math.Min(k, ((k + kBlocks - 1) / kBlocks + 15) & ~15);
        kBlocks = (k + kcMax - 1) / kcMax;
        // Packed A lives in a ring of row-block slots (the schedule packs row block mb + 1 while mb computes, so three
        // slots are enough; a whole-matrix buffer was 197 MB for the projector and crowded the mapped weights out of
        // the page cache). A slot holds K block b at b·(MC·kcMax), its panel r (counted from the row block's first)
        // at + r·14·kc_b. Packed B holds K block b at b·(nPanels·32·kcMax), panel q at + q·32·kc_b.
        int aSlots = Math.Min(mBlocks, 3);
        long aBlockFloats = (long)Math.Min(mPanels, rowPanelsPerItem) * MR * kcMax, aSlotFloats = aBlockFloats * kBlocks;
        long bBlockFloats = (long)nPanels * NR * kcMax;
        ScratchBuffer packA = context.Scratch.Rent(aSlotFloats * aSlots);
        ScratchBuffer packB = context.Scratch.Rent(packBInItem ? 16 : bBlockFloats * kBlocks);
        try
        {
            nint aPtr = (nint)a, paBase = (nint)packA.Pointer, pbBase = (nint)packB.Pointer;
            if (!packBInItem)
            {
                // Many row blocks: B (small next to A here) is packed for every K block up front by both threads.
                int bGroups = (nPanels + PackGroup - 1) / PackGroup;
                context.For(bGroups * kBlocks, item =>
                {
                    int block = item / bGroups, p0 = block * kcMax, kc = Math.Min(kcMax, k - p0);
                    float* pb = (float*)pbBase + block * bBlockFloats;
                    for (int q = item % bGroups * PackGroup, q1 = Math.Min(nPanels, q + PackGroup); q < q1; q++)
                    {
                        TSteps.PackB(targets, panelStart, q, p0, kc, pb + (long)q * NR * kc);
                    }
                });
            }

            // Column chunks of at most NC, and enough items (≥ 8 per thread) for dynamic load balance (a narrow N such as
            // text k/v would otherwise leave a thread idle at the end).
            // One row block with a packed A too large to stay in L3 between items (text down: 400 × 14336 floats = 23 MB,
            // streamed once per item): twice as wide chunks halve that traffic; a packed A that fits keeps 128.
            int singleBlockCols = (long)m * k * sizeof(float) > LargePackedA ? 2 * NBlockSingleRowBlock : NBlockSingleRowBlock;
            int chunkPanels = (packBInItem ? singleBlockCols : NBlock) / NR;
            if (context.Threads > 1)
            {
                while (chunkPanels > 1 && mBlocks * ((nPanels + chunkPanels - 1) / chunkPanels) < 8 * context.Threads)
                {
                    chunkPanels /= 2;
                }
            }
            int nChunks = (nPanels + chunkPanels - 1) / chunkPanels;
            // A's packing of a (row block, K block) is split into parts of PackAPanels row panels: in one row block both
            // threads share it even when there are only one or two K blocks, and with several row blocks the parts are
            // spread more finely among the compute items of the row block before (fewer waits).
            int packParts = (Math.Min(mPanels, rowPanelsPerItem) + PackAPanels - 1) / PackAPanels;
            int[] work = Schedule(mBlocks, kBlocks * packParts, nChunks);
            int[] packed = new int[mBlocks * kBlocks]; // parts of A of (row block, K block) packed so far
            int[] computed = new int[mBlocks];         // compute items finished per row block (frees its A slot)

            context.ForOrdered(work.Length, index =>
            {
                int item = work[index];
                if (item < 0)
                {
                    // Pack a part of A of one (row block, K block); compute items of that row block wait for all parts.
                    int unit = -item - 1, part = unit % packParts, mb = unit / packParts / kBlocks, block = unit / packParts % kBlocks;
                    if (mb >= aSlots)
                    {
                        // The slot's previous row block must be finished (its items all started before this one).
                        TSteps.Wait(ref computed[mb - aSlots], nChunks);
                    }
                    int p0 = block * kcMax, kc = Math.Min(kcMax, k - p0), rFirst = mb * rowPanelsPerItem;
                    float* pa = (float*)paBase + mb % aSlots * aSlotFloats + block * aBlockFloats;
                    try
                    {
                        for (int r = rFirst + part * PackAPanels, r1 = Math.Min(Math.Min(mPanels, rFirst + rowPanelsPerItem), r + PackAPanels); r < r1; r++)
                        {
                            TSteps.PackA((float*)aPtr, m, k, r * MR, p0, kc, pa + (long)(r - rFirst) * MR * kc, geluOfA);
                        }
                    }
                    finally
                    {
                        Interlocked.Increment(ref packed[mb * kBlocks + block]);
                    }
                    return;
                }
                int nc = item % nChunks, rowBlock = item / nChunks;
                int rp0 = rowBlock * rowPanelsPerItem, rp1 = Math.Min(mPanels, rp0 + rowPanelsPerItem);
                int qp0 = nc * chunkPanels, qp1 = Math.Min(nPanels, qp0 + chunkPanels);
                ScratchBuffer? local = packBInItem ? context.Scratch.Rent((long)chunkPanels * NR * kcMax) : null;
                try
                {
                    for (int block = 0; block < kBlocks; block++)
                    {
                        int p0 = block * kcMax, kc = Math.Min(kcMax, k - p0);
                        float* pb;
                        if (local is null)
                        {
                            pb = (float*)pbBase + block * bBlockFloats;
                        }
                        else
                        {
                            for (int q = qp0; q < qp1; q++)
                            {
                                TSteps.PackB(targets, panelStart, q, p0, kc, local.Pointer + (long)(q - qp0) * NR * kc);
                            }
                            // Macro addresses panel q at base + q·NR·kc: shift the base so panel qp0 lands at the buffer start.
                            pb = local.Pointer - (long)qp0 * NR * kc;
                        }
                        TSteps.Wait(ref packed[rowBlock * kBlocks + block], packParts);
                        // Macro addresses A panel r at base + r·14·kc: shift the base so panel rp0 lands at the slot start.
                        float* pa = (float*)paBase + rowBlock % aSlots * aSlotFloats + block * aBlockFloats - (long)rp0 * MR * kc;
                        // What the calls fetch ahead: the next K block's first A panel (its slot area, possibly still
                        // being packed: a prefetch of it is merely useless) and, when B is packed up front, its B panels.
                        var ahead = new Lookahead { BPackedUpFront = local is null };
                        if (block + 1 < kBlocks)
                        {
                            ahead.NextKc = Math.Min(kcMax, k - p0 - kc);
                            ahead.NextBlockA = (float*)paBase + rowBlock % aSlots * aSlotFloats + (block + 1) * aBlockFloats;
                            ahead.NextBlockB = local is null ? (float*)pbBase + (block + 1) * bBlockFloats : null;
                        }
                        TSteps.Macro(pa, pb, kc, rp0, rp1, qp0, qp1, m, targets, panelStart, block == 0, lastBlock: p0 + kc == k, ahead);
                    }
                }
                finally
                {
                    // In finally so that a waiting pack item never hangs, even if this item failed.
                    Interlocked.Increment(ref computed[rowBlock]);
                    if (local is not null)
                    {
                        context.Scratch.Return(local);
                    }
                }
            });
        }
        finally
        {
            context.Scratch.Return(packA);
            context.Scratch.Return(packB);
        }
    }

    /// <summary>
    /// The order in which work starts (<see cref="ComputeContext.ForOrdered"/>): the A packing of row block 0 (every K
    /// block, in <paramref name="packsPerRowBlock"/> units), then for each row block its compute items
    /// (row block · nChunks + chunk) with the packing of the next row block spread among them (encoded
    /// −(rowBlock · packsPerRowBlock + unit) − 1). One thread packs while the other
    /// computes, so A's packing (reading and writing M·K floats: 7–35 ms of a vision GEMM) overlaps the FMAs, and a
    /// compute item rarely finds its panels unpacked.
    /// </summary>
    private static int[] Schedule(int mBlocks, int packsPerRowBlock, int nChunks)
    {
        var work = new int[mBlocks * (packsPerRowBlock + nChunks)];
        int at = 0;
        for (int b = 0; b < packsPerRowBlock; b++)
        {
            work[at++] = -b - 1;
        }
        for (int mb = 0; mb < mBlocks; mb++)
        {
            int packs = mb + 1 < mBlocks ? packsPerRowBlock : 0, total = nChunks + packs, done = 0;
            for (int i = 0; i < total; i++)
            {
                // Item i of this segment is a pack when the running share of packs steps (packs spread evenly).
                int after = (int)((long)(i + 1) * packs / total);
                if (after > done)
                {
                    work[at++] = -((mb + 1) * packsPerRowBlock + done) - 1;
                    done = after;
                }
                else
                {
                    work[at++] = mb * nChunks + (i - done);
                }
            }
        }
        return work;
    }

    /// <summary>Spins (then yields) until <paramref name="counter"/> reaches <paramref name="target"/>.</summary>
    internal static void WaitUntil(ref int counter, int target)
    {
        var spinner = new SpinWait();
        while (Volatile.Read(ref counter) < target)
        {
            spinner.SpinOnce();
        }
    }

    /// <summary>
    /// Updates C rows of A panels [rp0, rp1) × columns of B panels [qp0, qp1): each A micro-panel (14·kc floats,
    /// from L2) is swept across the chunk's B micro-panels (kc·NC floats, from L2 and L3). The bias is added
    /// with the last K block.
    /// </summary>
    internal static void Macro<TSteps>(float* pa, float* pb, int kc, int rp0, int rp1, int qp0, int qp1, int m, GemmTarget[] targets,
        int[] panelStart, bool first, bool lastBlock, in Lookahead ahead)
        where TSteps : struct, IGemmSteps
    {
        float* paNext = ahead.NextBlockA, pbNext = ahead.NextBlockB;
        int kcNext = ahead.NextKc;
        float* tile = stackalloc float[MR * NR + 16];
        float* edgeBias = stackalloc float[NR + 16];
        tile = (float*)(((nint)tile + 63) & ~(nint)63);
        edgeBias = (float*)(((nint)edgeBias + 63) & ~(nint)63);
        for (int r = rp0; r < rp1; r++)
        {
            int i0 = r * MR, rows = Math.Min(MR, m - i0);
            float* aPanel = pa + (long)r * MR * kc;
            int t = Target(panelStart, qp0);
            // The next A panel (the next row panel's, or the next K block's first) is fetched into L2 a share per call
            // of this sweep, so that the sweep's first call does not wait on L3 for it.
            float* nextA = r + 1 < rp1 ? aPanel + MR * kc : paNext;
            int nextALines = r + 1 < rp1 ? MR * kc / 16 : MR * kcNext / 16, sweep = qp1 - qp0;
            int aShare = nextA == null ? 0 : (nextALines + sweep - 1) / sweep;
            for (int q = qp0; q < qp1; q++)
            {
                if (q == panelStart[t + 1])
                {
                    t++;
                }
                var target = targets[t];
                int n = target.Weight.Rows, j0 = (q - panelStart[t]) * NR, cols = Math.Min(NR, n - j0);
                float* bPanel = pb + (long)q * NR * kc;
                float* bias = lastBlock ? target.Bias : null;
                float* biasPanel = bias == null ? null : bias + j0;
                float* cTile = target.C + (long)i0 * n + j0;
                if (rows == MR && cols == NR)
                {
                    if (!first)
                    {
                        // The kernel starts by loading its C tile, untouched since the previous K block and often out of
                        // L2 by now: prefetch the tile of the next call (the next panel of this row panel, or the chunk's
                        // first of the next row panel) so its 28 lines arrive during this call (bit-identical).
                        if (q + 1 < qp1 && q + 1 < panelStart[t + 1])
                        {
                            PrefetchTile(cTile + NR, n);
                        }
                        else if (r + 1 < rp1)
                        {
                            int t0 = Target(panelStart, qp0);
                            long ld = targets[t0].Weight.Rows;
                            PrefetchTile(targets[t0].C + (i0 + MR) * ld + (qp0 - panelStart[t0]) * NR, ld);
                        }
                    }
                    int j = q - qp0, aLines = Math.Clamp(nextALines - j * aShare, 0, aShare);
                    byte* pfA = aLines == 0 ? null : (byte*)(nextA + (long)j * aShare * 16);
                    // B: in a K block's last sweep the next K block's panel q (packed up front), in its first sweep the
                    // next panel of the chunk (both come from L3 otherwise); else none.
                    byte* pfB = null;
                    if (r == rp1 - 1 && pbNext != null)
                    {
                        pfB = (byte*)(pbNext + (long)q * NR * kcNext);
                    }
                    else if (r == rp0 && q + 1 < qp1 && ahead.BPackedUpFront)
                    {
                        pfB = (byte*)(bPanel + NR * kc);
                    }
                    TSteps.FullTile(aPanel, bPanel, kc, cTile, n, !first, biasPanel, pfA, aLines, pfB, new TileCall(first, r == rp0, q == qp0));
                    continue;
                }
                if (rows <= GemmMicroKernel.MediumRows && cols == NR)
                {
                    // A last row panel of ≤ 12 rows: a short kernel straight into C (no zero rows, no private tile).
                    TSteps.ShortPanel(aPanel, bPanel, kc, cTile, n, rows, !first, biasPanel);
                    continue;
                }
                if (bias != null && cols < NR)
                {
                    new Span<float>(edgeBias, NR).Clear();
                    new ReadOnlySpan<float>(biasPanel, cols).CopyTo(new Span<float>(edgeBias, NR));
                    biasPanel = edgeBias;
                }
                // Edge tile: run the full kernel on a private tile and copy the valid part (same arithmetic per element).
                if (!first)
                {
                    for (int i = 0; i < rows; i++)
                    {
                        new ReadOnlySpan<float>(cTile + (long)i * n, cols).CopyTo(new Span<float>(tile + i * NR, cols));
                    }
                }
                if (rows <= ShortPanelRows)
                {
                    GemmMicroKernel.Kernel8x32(aPanel, bPanel, kc, tile, NR, rows, !first, biasPanel);
                }
                else if (rows <= GemmMicroKernel.MediumRows)
                {
                    GemmMicroKernel.Kernel12x32(aPanel, bPanel, kc, tile, NR, rows, !first, biasPanel);
                }
                else
                {
                    GemmMicroKernel.Kernel14x32(aPanel, bPanel, kc, tile, NR, !first, biasPanel);
                }
                for (int i = 0; i < rows; i++)
                {
                    new ReadOnlySpan<float>(tile + i * NR, cols).CopyTo(new Span<float>(cTile + (long)i * n, cols));
                }
            }
        }
    }

    /// <summary>Packs rows i0..i0+14 of A, columns p0..p0+kc, as [kc][14] (rows past M are zero).</summary>
    internal static void PackA(float* a, int m, int k, int i0, int p0, int kc, float* dst, bool gelu)
    {
        int rows = Math.Min(MR, m - i0);
        int p = 0;
        if (gelu)
        {
            PackGeluA(a, k, i0, rows, p0, kc, dst);
            return;
        }
        if (rows == MR && Avx512F.IsSupported)
        {
            // 14 rows × 16 columns per step, transposed in registers (rows 14 and 15 are zero and masked off on store):
            // the scalar loop cost ≈ 10 of 117 ms in the vision o_proj GEMM (N = 1280 reuses each A element least).
            Vector512<float> mask = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0).AsSingle();
            float* src = a + (long)i0 * k + p0;
            for (; p + 16 <= kc; p += 16)
            {
                float* s0 = src + p;
                Transpose16x16.Store(
                    Vector512.Load(s0), Vector512.Load(s0 + 1L * k), Vector512.Load(s0 + 2L * k), Vector512.Load(s0 + 3L * k),
                    Vector512.Load(s0 + 4L * k), Vector512.Load(s0 + 5L * k), Vector512.Load(s0 + 6L * k), Vector512.Load(s0 + 7L * k),
                    Vector512.Load(s0 + 8L * k), Vector512.Load(s0 + 9L * k), Vector512.Load(s0 + 10L * k), Vector512.Load(s0 + 11L * k),
                    Vector512.Load(s0 + 12L * k), Vector512.Load(s0 + 13L * k), Vector512<float>.Zero, Vector512<float>.Zero,
                    dst + (long)p * MR, MR, mask);
            }
        }
        for (int i = 0; i < rows; i++)
        {
            float* src = a + (long)(i0 + i) * k + p0;
            for (int q = p; q < kc; q++)
            {
                dst[q * MR + i] = src[q];
            }
        }
        for (int i = rows; i < MR; i++)
        {
            for (int q = p; q < kc; q++)
            {
                dst[q * MR + i] = 0f;
            }
        }
    }

    /// <summary>
    /// <see cref="PackA"/> of GELU(A): the 16-column groups start at multiples of 16 in each row (K % 16 == 0, p0 and
    /// kc multiples of 16), exactly the vectors <see cref="Gelu"/> evaluates, so the packed values are bit-identical to
    /// packing the output of <see cref="Gelu.Apply(ReadOnlySpan{float}, Span{float}, ComputeContext)"/>.
    /// </summary>
    private static void PackGeluA(float* a, int k, int i0, int rows, int p0, int kc, float* dst)
    {
        float* src = a + (long)i0 * k + p0;
        if (rows == MR)
        {
            Vector512<float> mask = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0).AsSingle();
            for (int p = 0; p < kc; p += 16)
            {
                float* s0 = src + p;
                Transpose16x16.Store(
                    Gelu.Vector16(Vector512.Load(s0)), Gelu.Vector16(Vector512.Load(s0 + 1L * k)),
                    Gelu.Vector16(Vector512.Load(s0 + 2L * k)), Gelu.Vector16(Vector512.Load(s0 + 3L * k)),
                    Gelu.Vector16(Vector512.Load(s0 + 4L * k)), Gelu.Vector16(Vector512.Load(s0 + 5L * k)),
                    Gelu.Vector16(Vector512.Load(s0 + 6L * k)), Gelu.Vector16(Vector512.Load(s0 + 7L * k)),
                    Gelu.Vector16(Vector512.Load(s0 + 8L * k)), Gelu.Vector16(Vector512.Load(s0 + 9L * k)),
                    Gelu.Vector16(Vector512.Load(s0 + 10L * k)), Gelu.Vector16(Vector512.Load(s0 + 11L * k)),
                    Gelu.Vector16(Vector512.Load(s0 + 12L * k)), Gelu.Vector16(Vector512.Load(s0 + 13L * k)),
                    Vector512<float>.Zero, Vector512<float>.Zero,
                    dst + (long)p * MR, MR, mask);
            }
            return;
        }
        float* values = stackalloc float[16];
        for (int i = 0; i < MR; i++)
        {
            for (int p = 0; p < kc; p += 16)
            {
                if (i < rows)
                {
                    Gelu.Vector16(Vector512.Load(src + (long)i * k + p)).Store(values);
                }
                for (int t = 0; t < 16; t++)
                {
                    dst[(p + t) * MR + i] = i < rows ? values[t] : 0f;
                }
            }
        }
    }

    /// <summary>A last row panel of at most <see cref="GemmMicroKernel.MediumRows"/> rows, straight into C: the 8- or
    /// 12-row kernel, whichever covers <paramref name="rows"/>.</summary>
    internal static void ShortPanel(float* a, float* b, int kc, float* c, long ldc, int rows, bool accumulate, float* bias)
    {
        if (rows <= ShortPanelRows)
        {
            GemmMicroKernel.Kernel8x32(a, b, kc, c, ldc, rows, accumulate, bias);
        }
        else
        {
            GemmMicroKernel.Kernel12x32(a, b, kc, c, ldc, rows, accumulate, bias);
        }
    }

    /// <summary>What one Macro call's kernel calls fetch ahead for the next K block (see the compute item).</summary>
    internal struct Lookahead
    {
        /// <summary>The next K block's first A panel; null in the last K block.</summary>
        public float* NextBlockA;

        /// <summary>The next K block's packed B (B packed up front); null otherwise.</summary>
        public float* NextBlockB;

        /// <summary>The next K block's depth (0 in the last K block).</summary>
        public int NextKc;

        /// <summary>B was packed for every K block before the compute items started.</summary>
        public bool BPackedUpFront;
    }

    /// <summary>Prefetches the 14 rows × 2 cache lines of a C tile (row stride <paramref name="ld"/> floats) into L1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchTile(float* tile, long ld)
    {
        for (int i = 0; i < MR; i++)
        {
            Sse.Prefetch0(tile + i * ld);
            Sse.Prefetch0(tile + i * ld + 16);
        }
    }

    /// <summary>The target that global B panel <paramref name="q"/> belongs to.</summary>
    private static int Target(int[] panelStart, int q)
    {
        int t = 0;
        while (q >= panelStart[t + 1])
        {
            t++;
        }
        return t;
    }

    /// <summary>Packs global B panel <paramref name="q"/>: 32 rows of its target's weight, k range p0..p0+kc.</summary>
    internal static void PackB(GemmTarget[] targets, int[] panelStart, int q, int p0, int kc, float* dst)
    {
        int t = Target(panelStart, q);
        PackB(targets[t].Weight, (q - panelStart[t]) * NR, p0, kc, dst);
    }

    /// <summary>Packs W rows j0..j0+32 (= B columns), k range p0..p0+kc, widened to float32 as [kc][32] (missing rows zero).</summary>
    private static void PackB(WeightMatrix w, int j0, int p0, int kc, float* dst)
    {
        int cols = Math.Min(NR, w.Rows - j0), k = w.Cols;
        switch (w.Type)
        {
            case WeightType.BF16:
                {
                    ushort* baseRow = (ushort*)w.Data + (long)j0 * k + p0;
                    int j = 0;
                    if (Avx512F.IsSupported)
                    {
                        for (; j + 16 <= cols; j += 16)
                        {
                            PackBf16Block16(baseRow + (long)j * k, k, kc, dst + j);
                        }
                    }
                    for (; j < cols; j++)
                    {
                        ushort* src = baseRow + (long)j * k;
                        for (int p = 0; p < kc; p++)
                        {
                            dst[p * NR + j] = BitConverter.Int32BitsToSingle(src[p] << 16);
                        }
                    }
                    break;
                }
            case WeightType.F32:
                for (int j = 0; j < cols; j++)
                {
                    float* src = (float*)w.Data + (long)(j0 + j) * k + p0;
                    for (int p = 0; p < kc; p++)
                    {
                        dst[p * NR + j] = src[p];
                    }
                }
                break;
            case WeightType.F16:
                for (int j = 0; j < cols; j++)
                {
                    Half* src = (Half*)w.Data + (long)(j0 + j) * k + p0;
                    for (int p = 0; p < kc; p++)
                    {
                        dst[p * NR + j] = (float)src[p];
                    }
                }
                break;
            default:
                throw new NotSupportedException($"Weight type {w.Type} is not supported.");
        }
        for (int j = cols; j < NR; j++)
        {
            for (int p = 0; p < kc; p++)
            {
                dst[p * NR + j] = 0f;
            }
        }
    }

    /// <summary>
    /// Widens and transposes 16 bf16 rows (stride <paramref name="k"/>) × kc columns into dst[p*32 + 0..16]: blocks of
    /// 16×16 are widened in registers and transposed with unpack/shuffle steps instead of 256 scalar stores.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBf16Block16(ushort* src, int k, int kc, float* dst)
    {
        int p = 0;
        for (; p + 16 <= kc; p += 16)
        {
            ushort* s0 = src + p;
            Transpose16x16.Store(
                Widen(s0), Widen(s0 + 1L * k), Widen(s0 + 2L * k), Widen(s0 + 3L * k),
                Widen(s0 + 4L * k), Widen(s0 + 5L * k), Widen(s0 + 6L * k), Widen(s0 + 7L * k),
                Widen(s0 + 8L * k), Widen(s0 + 9L * k), Widen(s0 + 10L * k), Widen(s0 + 11L * k),
                Widen(s0 + 12L * k), Widen(s0 + 13L * k), Widen(s0 + 14L * k), Widen(s0 + 15L * k),
                dst + (long)p * NR, NR, Vector512<float>.AllBitsSet);
        }
        for (; p < kc; p++)
        {
            for (int j = 0; j < 16; j++)
            {
                dst[(long)p * NR + j] = BitConverter.Int32BitsToSingle(src[(long)j * k + p] << 16);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen(ushort* p) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load(p)), 16).AsSingle();
}

/// <summary>One weight of a (possibly fused) GEMM: C[M, W.Rows] = A·Wᵀ (+ bias), C and bias as raw pointers (bias may be null).</summary>
internal readonly unsafe struct GemmTarget(WeightMatrix weight, float* c, float* bias)
{
    public WeightMatrix Weight { get; } = weight;

    public float* C { get; } = c;

    public float* Bias { get; } = bias;
}
