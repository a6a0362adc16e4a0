using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Per-output-channel symmetric int8 weights in the VNNI panel layout that <see cref="GemmInt8"/> streams.
/// <para>Quantization: row n of W gets scale s[n] = max_k |W[n, k]| / 127 and q[n, k] = round_even(W[n, k] · (127 / max))
/// clamped to [-127, 127] (an all-zero row gets scale 0 and q = 0). W[n, k] ≈ s[n] · q[n, k].</para>
/// <para>Layout (<see cref="LayoutVersion"/> 1): N is padded to a multiple of 8 and K to a multiple of 4 with zeros; the
/// bytes are [N/8 panels][K/4 groups][8 lanes][4 k]: element (n, k) lies at
/// (n / 8) · (Kp · 8) + (k / 4) · 32 + (n % 8) · 4 + k % 4. One 32-byte load is one <c>vpdpbusd</c> operand: 8 output
/// channels × 4 consecutive k, so both the GEMM and the decode GEMV read the weights strictly sequentially per panel.</para>
/// <para>Row sums Σ_k q[n, k] (int32) go with the matrix: activations enter <c>vpdpbusd</c> as unsigned bytes
/// q_a + 128, and the kernels subtract 128 · rowSum[n] from each dot product.</para>
/// </summary>
internal static unsafe class Int8Weights
{
    /// <summary>Version of the byte layout above; the sidecar records it and loading refuses another.</summary>
    public const int LayoutVersion = 1;

    /// <summary>N padded to whole 8-lane panels.</summary>
    public static int PaddedRows(int rows) => (rows + 7) & ~7;

    /// <summary>K padded to whole 4-byte groups.</summary>
    public static int PaddedCols(int cols) => (cols + 3) & ~3;

    /// <summary>Bytes of the packed matrix.</summary>
    public static long PackedBytes(int rows, int cols) => (long)PaddedRows(rows) * PaddedCols(cols);

    /// <summary>Offset of element (n, k) in the packed layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Offset(int n, int k, int paddedCols) => (long)(n >> 3) * paddedCols * 8 + (k >> 2) * 32 + (n & 7) * 4 + (k & 3);

    /// <summary>
    /// Quantizes one float row: writes q (K values) and returns the scale. The same arithmetic as the activations'
    /// <see cref="Int8Activations"/> (multiply by 127 / max, round half to even), so weights and activations agree.
    /// </summary>
    public static float QuantizeRow(ReadOnlySpan<float> row, Span<sbyte> q)
    {
        float max = 0;
        foreach (float v in row)
        {
            if (!float.IsFinite(v))
            {
                throw new ArgumentException("A weight row holds a non-finite value; it cannot be quantized.");
            }
            max = MathF.Max(max, MathF.Abs(v));
        }
        if (max == 0)
        {
            q[..row.Length].Clear();
            return 0;
        }
        float inverse = 127f / max;
        for (int k = 0; k < row.Length; k++)
        {
            q[k] = (sbyte)Math.Clamp(MathF.Round(row[k] * inverse), -127f, 127f);
        }
        return max / 127f;
    }

    /// <summary>
    /// Quantizes a whole matrix (any float type) into the packed layout: <paramref name="packed"/> gets
    /// <see cref="PackedBytes"/> bytes, <paramref name="scales"/> and <paramref name="rowSums"/> N values each.
    /// </summary>
    public static void Quantize(WeightMatrix w, Span<sbyte> packed, Span<float> scales, Span<int> rowSums, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(w);
        int n = w.Rows, k = w.Cols, kp = PaddedCols(k);
        if (packed.Length < PackedBytes(n, k) || scales.Length < n || rowSums.Length < n)
        {
            throw new ArgumentException("Destination spans are too short for the packed matrix.");
        }
        packed[..(int)PackedBytes(n, k)].Clear();
        fixed (sbyte* pp = packed)
        fixed (float* ps = scales)
        fixed (int* pr = rowSums)
        {
            nint packedPtr = (nint)pp, scalesPtr = (nint)ps, sumsPtr = (nint)pr;
            // Rows are independent: each writes only its own lanes, scale and sum.
            try
            {
                QuantizeRows(w, n, k, kp, packedPtr, scalesPtr, sumsPtr, threads);
            }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]); // the row's own error
            }
        }
    }

    private static void QuantizeRows(WeightMatrix w, int n, int k, int kp, nint packedPtr, nint scalesPtr, nint sumsPtr, int threads) =>
            Parallel.For(0, (n + 63) / 64, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, () => (new float[k], new sbyte[k]),
                (block, _, buffers) =>
                {
                    var (row, q) = buffers;
                    for (int j = block * 64; j < Math.Min(n, block * 64 + 64); j++)
                    {
                        w.ReadRow(j, row);
                        ((float*)scalesPtr)[j] = QuantizeRow(row, q);
                        int sum = 0;
                        for (int p = 0; p < k; p++)
                        {
                            ((sbyte*)packedPtr)[Offset(j, p, kp)] = q[p];
                            sum += q[p];
                        }
                        ((int*)sumsPtr)[j] = sum;
                    }
                    return buffers;
                }, _ => { });

    /// <summary>A quantized copy of <paramref name="w"/> in pinned managed memory (tests, benchmarks, small tensors).</summary>
    public static WeightMatrix QuantizeToMatrix(WeightMatrix w)
    {
        ArgumentNullException.ThrowIfNull(w);
        var store = new Store(PackedBytes(w.Rows, w.Cols), w.Rows);
        Quantize(w, store.Packed, store.Scales, store.RowSums);
        return store.Matrix(w.Rows, w.Cols);
    }

    /// <summary>A copy of an int8 matrix in fresh pinned memory (benchmarks: cold-weight copies).</summary>
    public static WeightMatrix Copy(WeightMatrix w)
    {
        ArgumentNullException.ThrowIfNull(w);
        var store = new Store(PackedBytes(w.Rows, w.Cols), w.Rows);
        new ReadOnlySpan<sbyte>(w.Data, (int)PackedBytes(w.Rows, w.Cols)).CopyTo(store.Packed);
        new ReadOnlySpan<float>(w.Scales, w.Rows).CopyTo(store.Scales);
        new ReadOnlySpan<int>(w.RowSums, w.Rows).CopyTo(store.RowSums);
        return store.Matrix(w.Rows, w.Cols);
    }

    /// <summary>Dequantizes row <paramref name="row"/> of an int8 matrix: s[n] · q[n, k].</summary>
    public static void DequantizeRow(WeightMatrix w, int row, Span<float> destination)
    {
        int kp = PaddedCols(w.Cols);
        sbyte* data = (sbyte*)w.Data;
        float scale = w.Scales[row];
        for (int k = 0; k < w.Cols; k++)
        {
            destination[k] = scale * data[Offset(row, k, kp)];
        }
    }

    /// <summary>q[n, k] of an int8 matrix.</summary>
    public static sbyte Get(WeightMatrix w, int n, int k) => ((sbyte*)w.Data)[Offset(n, k, PaddedCols(w.Cols))];

    /// <summary>Pinned arrays behind a packed matrix (the matrix keeps the store alive as its owner).</summary>
    private sealed class Store
    {
        private readonly sbyte[] _packed;
        private readonly float[] _scales;
        private readonly int[] _rowSums;

        public Store(long packedBytes, int rows)
        {
            _packed = GC.AllocateArray<sbyte>(checked((int)packedBytes), pinned: true);
            _scales = GC.AllocateArray<float>(rows, pinned: true);
            _rowSums = GC.AllocateArray<int>(rows, pinned: true);
        }

        public Span<sbyte> Packed => _packed;

        public Span<float> Scales => _scales;

        public Span<int> RowSums => _rowSums;

        public WeightMatrix Matrix(int rows, int cols) => new(
            Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_packed)), rows, cols,
            (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_scales)),
            (int*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_rowSums)), this);
    }
}
