using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// C[m, n] = A[m, k] · Wᵀ (+ bias) with W an <see cref="WeightType.I8Vnni"/> matrix: A is quantized per row on the fly
/// (<see cref="Int8Activations"/>), the int8 × int8 → int32 dot products run on 256-bit <c>vpdpbusd</c> (AVX-VNNI) with
/// the activations as unsigned bytes q_a + 128, and the epilogue subtracts 128 · rowSum[n] (exact in int32) and
/// dequantizes: C = float(dot) · (s_a[m] · s_w[n]) + bias[n].
/// <para>The int32 dot products are exact, so they do not depend on the blocking or the thread count; the epilogue is
/// the same per element everywhere, so C is bit-identical for every thread count and every M split, and equals
/// <see cref="Reference"/> to the bit. Overflow: |dot| ≤ 255 · 127 · K &lt; 2³¹ for K ≤ 66 000.</para>
/// <para>Register blocking (<see cref="GemmInt8MicroKernel"/>, generated): up to 4 rows of A × 3 panels of 8 channels
/// in 12 ymm accumulators (one 32-byte weight load per panel and one 4-byte broadcast per row per 4 k). Few rows
/// (decode) use the same kernels over wide column items: they stream each weight byte once, half the bytes of bf16.</para>
/// </summary>
internal static unsafe class GemmInt8
{
    /// <summary>Whether the VNNI kernels run here (otherwise <see cref="Run"/> takes the scalar reference).</summary>
    public static bool IsAccelerated => AvxVnni.IsSupported;

    /// <summary>Largest K for which the int32 dot products cannot overflow.</summary>
    public const int MaxK = int.MaxValue / (255 * 127) - 4;

    /// <summary>Bytes of A rows per row block, so that a block stays in L2 while the column tiles stream past it.</summary>
    private const int RowBlockBytes = 384 * 1024;

    /// <summary>
    /// Fewest rows per block even when they exceed <see cref="RowBlockBytes"/> (K = 14336: text down): every row block
    /// reads each 3-panel weight tile again, so short blocks multiply the weight traffic, while rows of A beyond L2 still
    /// stream from L3 fast enough (16 bytes per 12 <c>vpdpbusd</c>).
    /// </summary>
    private const int MinRowsPerBlock = 64;

    /// <summary>C = A·Wᵀ (+ bias): quantizes A, then <see cref="RunQuantized"/>.</summary>
    public static void Run(float* a, int m, WeightMatrix w, float* bias, float* c, ComputeContext context) =>
        Run(a, m, [new GemmTarget(w, c, bias)], context);

    /// <summary>
    /// Several weights of the same K against one A (q/k/v, gate/up): A is quantized once. Each target's C is what the
    /// single-weight call gives, bit for bit (the quantization of a row does not depend on the weights).
    /// </summary>
    /// <param name="geluFirst">Multiply GELU(A) instead of A (applied row by row while quantizing; the fc2 of the vision MLP).</param>
    public static void Run(float* a, int m, ReadOnlySpan<GemmTarget> targets, ComputeContext context, bool geluFirst = false)
    {
        foreach (var t in targets)
        {
            Check(t.Weight);
            if (t.Weight.Cols != targets[0].Weight.Cols)
            {
                throw new ArgumentException("Int8 targets of one A must share K.", nameof(targets));
            }
        }
        WeightMatrix w = targets[0].Weight;
        int kp = Int8Weights.PaddedCols(w.Cols);
        // One scratch buffer (reused across calls): M rows of quantized bytes, then the M row scales.
        long bytes = (long)m * kp;
        ScratchBuffer scratch = context.Scratch.Rent((bytes + 3) / 4 + m);
        try
        {
            byte* pu = (byte*)scratch.Pointer;
            float* ps = scratch.Pointer + (bytes + 3) / 4;
            Int8Activations.Quantize(a, m, w.Cols, pu, ps, context, geluFirst);
            foreach (var t in targets)
            {
                var epilogue = new Dequantize(t.C, ps, t.Weight.Scales, t.Bias, t.Weight.Rows);
                if (IsAccelerated)
                {
                    RunQuantized(pu, m, t.Weight, ref epilogue, context);
                }
                else
                {
                    Reference(pu, m, t.Weight, ref epilogue);
                }
            }
        }
        finally
        {
            context.Scratch.Return(scratch);
        }
    }

    /// <summary>The compensated int32 dot products alone (tests: exact agreement with <see cref="Reference"/>).</summary>
    public static void RunInt32(byte* u8, int m, WeightMatrix w, int* c, ComputeContext context, bool reference = false)
    {
        Check(w);
        var epilogue = new RawInt32(c, w.Rows);
        if (reference || !IsAccelerated)
        {
            Reference(u8, m, w, ref epilogue);
        }
        else
        {
            RunQuantized(u8, m, w, ref epilogue, context);
        }
    }

    private static void Check(WeightMatrix w)
    {
        ArgumentNullException.ThrowIfNull(w);
        if (w.Type != WeightType.I8Vnni)
        {
            throw new ArgumentException($"The int8 GEMM needs an {WeightType.I8Vnni} matrix, not {w.Type}.", nameof(w));
        }
        if (w.Cols > MaxK)
        {
            throw new ArgumentException($"K = {w.Cols} exceeds the int8 GEMM's {MaxK} (int32 accumulators).", nameof(w));
        }
    }

    /// <summary>
    /// The scalar reference: Σ_k u[i, k] · q[n, k] − 128 · rowSum[n] in int32, then the same epilogue as the kernels.
    /// </summary>
    public static void Reference<E>(byte* u8, int m, WeightMatrix w, ref E epilogue)
        where E : struct, IInt8Epilogue
    {
        int n = w.Rows, k = w.Cols, kp = Int8Weights.PaddedCols(k);
        sbyte* q = (sbyte*)w.Data;
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                int dot = 0;
                for (int p = 0; p < kp; p++)
                {
                    dot += u8[(long)i * kp + p] * q[Int8Weights.Offset(j, p, kp)];
                }
                epilogue.Store1(i, j, dot - 128 * w.RowSums[j]);
            }
        }
    }

    private static void RunQuantized<E>(byte* u8, int m, WeightMatrix w, ref E epilogue, ComputeContext context)
        where E : struct, IInt8Epilogue
    {
        if (m == 0)
        {
            return;
        }
        int n = w.Rows, kp = Int8Weights.PaddedCols(w.Cols);
        int panels = Int8Weights.PaddedRows(n) / 8;
        int tiles = (panels + 2) / 3;
        // Few rows (decode): every row of A in each pass over the weights, columns split finely for the threads.
        // Many rows: blocks of rows that stay in L2 × 3-panel tiles; items go row-block-major so that consecutive
        // items share the A block.
        int rowsPerBlock = m <= 4 ? m : Math.Clamp(RowBlockBytes / kp / 4 * 4, MinRowsPerBlock, 256);
        int rowBlocks = (m + rowsPerBlock - 1) / rowsPerBlock;
        int tilesPerItem = m <= 4 ? Math.Max(1, Math.Min(8, tiles / (4 * Math.Max(1, context.Threads)))) : 1;
        int tileItems = (tiles + tilesPerItem - 1) / tilesPerItem;
        nint up = (nint)u8, wp = (nint)w.Data, sums = (nint)w.RowSums;
        E e = epilogue;
        context.For(rowBlocks * tileItems, item =>
        {
            int rb = item / tileItems, ti = item % tileItems;
            int i0 = rb * rowsPerBlock, i1 = Math.Min(m, i0 + rowsPerBlock);
            int t1 = Math.Min(tiles, (ti + 1) * tilesPerItem);
            E local = e;
            for (int t = ti * tilesPerItem; t < t1; t++)
            {
                int p0 = t * 3;
                Tile((byte*)up, i0, i1, kp, (sbyte*)wp, p0, Math.Min(3, panels - p0), n, (int*)sums, ref local);
            }
        });
    }

    /// <summary>
    /// Rows [i0, i1) of the quantized A (rows of <paramref name="kp"/> bytes from <paramref name="a"/>) against the
    /// <paramref name="count"/> (1–3) panels of 8 channels from panel <paramref name="p0"/> of <paramref name="w"/> (the
    /// <see cref="Int8Weights"/> panel layout, K padded to <paramref name="kp"/>), on the calling thread: the unit of work
    /// of <see cref="RunQuantized"/> and of the int8 attention (<see cref="AttentionInt8"/>).
    /// </summary>
    internal static void Tile<E>(byte* a, int i0, int i1, int kp, sbyte* w, int p0, int count, int n, int* rowSums, ref E epilogue)
        where E : struct, IInt8Epilogue
    {
        sbyte* b = w + (long)p0 * kp * 8;
        for (int i = i0; i < i1; i += GemmInt8MicroKernel.MaxRows)
        {
            GemmInt8MicroKernel.Run(Math.Min(GemmInt8MicroKernel.MaxRows, i1 - i), count, a + (long)i * kp, kp, b, i, p0 * 8, n, rowSums, ref epilogue);
        }
    }
}

/// <summary>What the int8 kernels do with a finished, compensated int32 dot product (specialised per type by the JIT).</summary>
internal interface IInt8Epilogue
{
    /// <summary>Eight consecutive outputs (i, j0..j0+7), all inside N.</summary>
    void Store8(int i, int j0, Vector256<int> dot);

    /// <summary>One output (i, j).</summary>
    void Store1(int i, int j, int dot);
}

/// <summary>Dequantization: C[i, j] = float(dot) · (s_a[i] · s_w[j]) (+ bias[j]), the same operations in both stores.</summary>
internal readonly unsafe struct Dequantize(float* c, float* rowScales, float* colScales, float* bias, int n) : IInt8Epilogue
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store8(int i, int j0, Vector256<int> dot)
    {
        Vector256<float> r = Vector256.ConvertToSingle(dot) * (Vector256.Create(rowScales[i]) * Vector256.Load(colScales + j0));
        if (bias != null)
        {
            r += Vector256.Load(bias + j0);
        }
        r.Store(c + (long)i * n + j0);
    }

    public void Store1(int i, int j, int dot)
    {
        float r = dot * (rowScales[i] * colScales[j]);
        c[(long)i * n + j] = bias != null ? r + bias[j] : r;
    }
}

/// <summary>The compensated int32 dot products themselves (tests).</summary>
internal readonly unsafe struct RawInt32(int* c, int n) : IInt8Epilogue
{
    public void Store8(int i, int j0, Vector256<int> dot) => dot.Store(c + (long)i * n + j0);

    public void Store1(int i, int j, int dot) => c[(long)i * n + j] = dot;
}
