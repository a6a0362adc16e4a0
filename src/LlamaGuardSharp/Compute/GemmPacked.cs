using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// The cache-blocked GEMM for M ≥ <see cref="Gemm.PackedMinRows"/>: C = A·Wᵀ (+ bias) with W widened to float32 while
/// it is packed. For each K block (≤ <see cref="KBlock"/>) the whole of B (= Wᵀ) and A are packed into micro-panels
/// (32 columns × KC and 14 rows × KC) by both threads, then C is updated in work items of MC rows × NC columns; inside
/// an item each A micro-panel (L1-resident) is swept across the chunk's B micro-panels (L2-resident).
/// Tuning note (shared, heavily loaded 2-core host, so only coarse): KC 256 → 512 and the A-in-L1 order raised the
/// GFLOP per CPU-second at the vision shapes from ≈ 57–66 % to ≈ 70–80 % of the FMA probe; the micro-kernel alone on
/// L1-resident panels reaches ≈ 97 %.
/// </summary>
/// <remarks>
/// Determinism: every C element is produced by exactly one micro-kernel call per K block, K blocks in order, so the
/// float32 reduction order depends only on the shapes, never on the thread count or scheduling.
/// </remarks>
internal static unsafe class GemmPacked
{
    /// <summary>
    /// KC (upper bound; K is split into equal blocks): an A micro-panel of 14·512·4 B = 28 KiB stays in the 48 KiB L1d,
    /// and C is read and written once per K block, so a large KC halves that traffic compared with 256.
    /// </summary>
    public const int KBlock = 512;

    /// <summary>MC: rows per work item (32 micro-panels); each item reuses one L2-resident chunk of packed B.</summary>
    public const int MBlock = 32 * GemmMicroKernel.Rows;

    /// <summary>NC: columns per chunk; a chunk of packed B is 512·512·4 B = 1 MiB, half the 2 MiB L2.</summary>
    public const int NBlock = 512;

    /// <summary>
    /// NC when all rows fit one item (M ≤ MC, e.g. text prefill): the chunk is re-streamed once per A micro-panel, so a
    /// 256 KiB chunk that survives the interleaved packing traffic in L2 did better (measured 60–72 % vs 48–70 % of the
    /// probe per CPU-second for the M = 400 shapes; vision shapes preferred 512: 64–86 % vs 54–75 %).
    /// </summary>
    public const int NBlockSingleRowBlock = 128;

    private const int MR = GemmMicroKernel.Rows;
    private const int NR = GemmMicroKernel.Cols;
    private const int PackGroup = 8; // micro-panels per packing work item

    public static void Run(float* a, int m, WeightMatrix w, float* bias, float* c, ComputeContext context)
    {
        int k = w.Cols, n = w.Rows;
        int mPanels = (m + MR - 1) / MR, nPanels = (n + NR - 1) / NR;
        // Equal K blocks of at most KBlock (e.g. 1280 -> 3 × 427) so no block is a short, inefficient remainder.
        int kBlocks = (k + KBlock - 1) / KBlock;
        int kcMax = (k + kBlocks - 1) / kBlocks;
        // Two pack buffers each: while the threads multiply with K block b, they also pack block b + 1 (pack items
        // interleaved among the compute items), so the weight stream from memory overlaps the FMAs.
        int rowPanelsPerItem = MBlock / MR;
        int mBlocks = (mPanels + rowPanelsPerItem - 1) / rowPanelsPerItem;
        // When all rows fit one item (M ≤ MC, text prefill), each B micro-panel is used by exactly one item: it is then
        // packed inside that item into a small L2-resident buffer instead of into a whole-matrix buffer that goes out
        // to memory (writing 4 bytes per weight to DRAM cost ≈ 15 ms per 4096 × 4096 weight).
        bool packBInItem = mBlocks == 1;
        long aFloats = (long)mPanels * MR * kcMax, bFloats = packBInItem ? 16 : (long)nPanels * NR * kcMax;
        ScratchBuffer packA0 = context.Scratch.Rent(aFloats), packA1 = context.Scratch.Rent(aFloats);
        ScratchBuffer packB0 = context.Scratch.Rent(bFloats), packB1 = context.Scratch.Rent(bFloats);
        try
        {
            nint pa0 = (nint)packA0.Pointer, pa1 = (nint)packA1.Pointer, pb0 = (nint)packB0.Pointer, pb1 = (nint)packB1.Pointer;
            nint aPtr = (nint)a, cPtr = (nint)c, biasPtr = (nint)bias;
            int aGroups = (mPanels + PackGroup - 1) / PackGroup, bGroups = packBInItem ? 0 : (nPanels + PackGroup - 1) / PackGroup;
            int packItems = aGroups + bGroups;
            // Column chunks of at most NBlock, and enough items (≥ 8 per thread) for dynamic load balance (text k/v,
            // N = 1024, had only 8 items per K block: 40/38 ms → 26/34 ms with 16).
            int chunkPanels = (mBlocks == 1 ? NBlockSingleRowBlock : NBlock) / NR;
            if (context.Threads > 1)
            {
                while (chunkPanels > 1 && mBlocks * ((nPanels + chunkPanels - 1) / chunkPanels) < 8 * context.Threads)
                {
                    chunkPanels /= 2;
                }
            }
            int nChunks = (nPanels + chunkPanels - 1) / chunkPanels;
            int computeItems = mBlocks * nChunks;

            void Pack(int item, int block)
            {
                int p0 = block * kcMax, kc = Math.Min(kcMax, k - p0);
                float* pa = (float*)(block % 2 == 0 ? pa0 : pa1), pb = (float*)(block % 2 == 0 ? pb0 : pb1);
                if (item < bGroups)
                {
                    for (int q = item * PackGroup, q1 = Math.Min(nPanels, q + PackGroup); q < q1; q++)
                    {
                        PackB(w, q * NR, p0, kc, pb + (long)q * NR * kc);
                    }
                }
                else
                {
                    for (int r = (item - bGroups) * PackGroup, r1 = Math.Min(mPanels, r + PackGroup); r < r1; r++)
                    {
                        PackA((float*)aPtr, m, k, r * MR, p0, kc, pa + (long)r * MR * kc);
                    }
                }
            }

            void Compute(int item, int block)
            {
                int p0 = block * kcMax, kc = Math.Min(kcMax, k - p0);
                float* pa = (float*)(block % 2 == 0 ? pa0 : pa1), pb = (float*)(block % 2 == 0 ? pb0 : pb1);
                // Consecutive items share a column chunk, so a chunk of packed B stays in L2 across them.
                int nc = item / mBlocks, mb = item % mBlocks;
                int rp0 = mb * rowPanelsPerItem, rp1 = Math.Min(mPanels, rp0 + rowPanelsPerItem);
                int qp0 = nc * chunkPanels, qp1 = Math.Min(nPanels, qp0 + chunkPanels);
                float* bias = p0 + kc == k ? (float*)biasPtr : null;
                if (!packBInItem)
                {
                    Macro(pa, pb, kc, rp0, rp1, qp0, qp1, m, n, (float*)cPtr, block == 0, bias);
                    return;
                }
                ScratchBuffer local = context.Scratch.Rent((long)chunkPanels * NR * kcMax);
                try
                {
                    for (int q = qp0; q < qp1; q++)
                    {
                        PackB(w, q * NR, p0, kc, local.Pointer + (long)(q - qp0) * NR * kc);
                    }
                    // Macro addresses panel q at base + q·NR·kc: shift the base so panel qp0 lands at the buffer start.
                    Macro(pa, local.Pointer - (long)qp0 * NR * kc, kc, rp0, rp1, qp0, qp1, m, n, (float*)cPtr, block == 0, bias);
                }
                finally
                {
                    context.Scratch.Return(local);
                }
            }

            context.For(packItems, item => Pack(item, 0));
            for (int block = 0; block < kBlocks; block++)
            {
                int current = block;
                int nextPacks = block + 1 < kBlocks ? packItems : 0, total = computeItems + nextPacks;
                context.For(total, i =>
                {
                    // Spread the pack items evenly: item i is pack item #before when the count of packs up to i steps.
                    long before = (long)i * nextPacks / total, after = (long)(i + 1) * nextPacks / total;
                    if (after > before)
                    {
                        Pack((int)before, current + 1);
                    }
                    else
                    {
                        Compute(i - (int)after, current);
                    }
                });
            }
        }
        finally
        {
            context.Scratch.Return(packA0);
            context.Scratch.Return(packA1);
            context.Scratch.Return(packB0);
            context.Scratch.Return(packB1);
        }
    }

    /// <summary>
    /// Updates C rows of A panels [rp0, rp1) × columns of B panels [qp0, qp1): each A micro-panel (14·kc floats,
    /// L1-resident) is swept across the chunk's B micro-panels (kc·NBlock floats, L2-resident).
    /// </summary>
    private static void Macro(float* pa, float* pb, int kc, int rp0, int rp1, int qp0, int qp1, int m, int n, float* c, bool first, float* bias)
    {
        float* tile = stackalloc float[MR * NR + 16];
        float* edgeBias = stackalloc float[NR + 16];
        tile = (float*)(((nint)tile + 63) & ~(nint)63);
        edgeBias = (float*)(((nint)edgeBias + 63) & ~(nint)63);
        for (int r = rp0; r < rp1; r++)
        {
            int i0 = r * MR, rows = Math.Min(MR, m - i0);
            float* aPanel = pa + (long)r * MR * kc;
            for (int q = qp0; q < qp1; q++)
            {
                int j0 = q * NR, cols = Math.Min(NR, n - j0);
                float* bPanel = pb + (long)q * NR * kc;
                float* biasPanel = bias == null ? null : bias + j0;
                float* cTile = c + (long)i0 * n + j0;
                if (rows == MR && cols == NR)
                {
                    GemmMicroKernel.Kernel14x32(aPanel, bPanel, kc, cTile, n, !first, biasPanel);
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
                GemmMicroKernel.Kernel14x32(aPanel, bPanel, kc, tile, NR, !first, biasPanel);
                for (int i = 0; i < rows; i++)
                {
                    new ReadOnlySpan<float>(tile + i * NR, cols).CopyTo(new Span<float>(cTile + (long)i * n, cols));
                }
            }
        }
    }

    /// <summary>Packs rows i0..i0+14 of A, columns p0..p0+kc, as [kc][14] (rows past M are zero).</summary>
    private static void PackA(float* a, int m, int k, int i0, int p0, int kc, float* dst)
    {
        int rows = Math.Min(MR, m - i0);
        for (int i = 0; i < rows; i++)
        {
            float* src = a + (long)(i0 + i) * k + p0;
            float* d = dst + i;
            for (int p = 0; p < kc; p++)
            {
                d[p * MR] = src[p];
            }
        }
        for (int i = rows; i < MR; i++)
        {
            for (int p = 0; p < kc; p++)
            {
                dst[p * MR + i] = 0f;
            }
        }
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
            Vector512<float> r0 = Widen(src + 0L * k + p), r1 = Widen(src + 1L * k + p), r2 = Widen(src + 2L * k + p), r3 = Widen(src + 3L * k + p);
            Vector512<float> r4 = Widen(src + 4L * k + p), r5 = Widen(src + 5L * k + p), r6 = Widen(src + 6L * k + p), r7 = Widen(src + 7L * k + p);
            Vector512<float> r8 = Widen(src + 8L * k + p), r9 = Widen(src + 9L * k + p), r10 = Widen(src + 10L * k + p), r11 = Widen(src + 11L * k + p);
            Vector512<float> r12 = Widen(src + 12L * k + p), r13 = Widen(src + 13L * k + p), r14 = Widen(src + 14L * k + p), r15 = Widen(src + 15L * k + p);
            // Stage 1: interleave pairs of rows (32-bit granularity).
            Vector512<float> t0 = Avx512F.UnpackLow(r0, r1), t1 = Avx512F.UnpackHigh(r0, r1);
            Vector512<float> t2 = Avx512F.UnpackLow(r2, r3), t3 = Avx512F.UnpackHigh(r2, r3);
            Vector512<float> t4 = Avx512F.UnpackLow(r4, r5), t5 = Avx512F.UnpackHigh(r4, r5);
            Vector512<float> t6 = Avx512F.UnpackLow(r6, r7), t7 = Avx512F.UnpackHigh(r6, r7);
            Vector512<float> t8 = Avx512F.UnpackLow(r8, r9), t9 = Avx512F.UnpackHigh(r8, r9);
            Vector512<float> t10 = Avx512F.UnpackLow(r10, r11), t11 = Avx512F.UnpackHigh(r10, r11);
            Vector512<float> t12 = Avx512F.UnpackLow(r12, r13), t13 = Avx512F.UnpackHigh(r12, r13);
            Vector512<float> t14 = Avx512F.UnpackLow(r14, r15), t15 = Avx512F.UnpackHigh(r14, r15);
            // Stage 2: 64-bit interleave of the pairs -> groups of 4 rows per 128-bit lane.
            Vector512<float> u0 = Lo64(t0, t2), u1 = Hi64(t0, t2), u2 = Lo64(t1, t3), u3 = Hi64(t1, t3);
            Vector512<float> u4 = Lo64(t4, t6), u5 = Hi64(t4, t6), u6 = Lo64(t5, t7), u7 = Hi64(t5, t7);
            Vector512<float> u8 = Lo64(t8, t10), u9 = Hi64(t8, t10), u10 = Lo64(t9, t11), u11 = Hi64(t9, t11);
            Vector512<float> u12 = Lo64(t12, t14), u13 = Hi64(t12, t14), u14 = Lo64(t13, t15), u15 = Hi64(t13, t15);
            // u0 holds, per 128-bit lane L, column 4L+0 of rows 0..3; u1 column 4L+1; u2 column 4L+2; u3 column 4L+3.
            // Stage 3/4: gather the four 128-bit lanes (rows 0-3, 4-7, 8-11, 12-15) of each column.
            Store4(u0, u4, u8, u12, dst + (long)p * NR, 0);
            Store4(u1, u5, u9, u13, dst + (long)p * NR, 1);
            Store4(u2, u6, u10, u14, dst + (long)p * NR, 2);
            Store4(u3, u7, u11, u15, dst + (long)p * NR, 3);
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo64(Vector512<float> x, Vector512<float> y) => Avx512F.UnpackLow(x.AsDouble(), y.AsDouble()).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi64(Vector512<float> x, Vector512<float> y) => Avx512F.UnpackHigh(x.AsDouble(), y.AsDouble()).AsSingle();

    /// <summary>
    /// a, b, c, d hold column (4L + col) of row groups 0-3, 4-7, 8-11, 12-15 in 128-bit lane L. Writes, for L = 0..3,
    /// the 16 values of column 4L + col to dst[(4L + col) * 32 .. +16].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, float* dst, int col)
    {
        // ab = [a.L0, a.L1, b.L0, b.L1] style shuffles: imm 0x44 picks lanes (0,1) of x and (0,1) of y; 0xEE lanes (2,3).
        Vector512<float> abLo = Avx512F.Shuffle4x128(a, b, 0x44), abHi = Avx512F.Shuffle4x128(a, b, 0xEE);
        Vector512<float> cdLo = Avx512F.Shuffle4x128(c, d, 0x44), cdHi = Avx512F.Shuffle4x128(c, d, 0xEE);
        // abLo = [a0 a1 b0 b1], cdLo = [c0 c1 d0 d1]; 0x88 -> [x0 x2 y0 y2] = [a0 b0 c0 d0]; 0xDD -> [a1 b1 c1 d1].
        Avx512F.Shuffle4x128(abLo, cdLo, 0x88).Store(dst + (0 * 4 + col) * NR);
        Avx512F.Shuffle4x128(abLo, cdLo, 0xDD).Store(dst + (1 * 4 + col) * NR);
        Avx512F.Shuffle4x128(abHi, cdHi, 0x88).Store(dst + (2 * 4 + col) * NR);
        Avx512F.Shuffle4x128(abHi, cdHi, 0xDD).Store(dst + (3 * 4 + col) * NR);
    }
}
