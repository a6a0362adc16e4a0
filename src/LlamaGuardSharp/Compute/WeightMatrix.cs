using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// A weight matrix W of shape [Rows, Cols] stored row-major (PyTorch <c>nn.Linear</c> layout [out, in]),
/// used in place: <see cref="Data"/> usually points into a read-only memory map of a safetensors file.
/// The matrix never owns native memory; <see cref="Owner"/> only keeps whatever does own it alive.
/// </summary>
internal sealed unsafe class WeightMatrix
{
    public WeightMatrix(void* data, int rows, int cols, WeightType type, object? owner)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(cols);
        if (data == null)
        {
            throw new ArgumentNullException(nameof(data));
        }
        Data = data;
        Rows = rows;
        Cols = cols;
        Type = type;
        Owner = owner;
    }

    /// <summary>An int8 matrix in the panel layout of <see cref="Int8Weights"/> with its scales and row sums (all N long).</summary>
    public WeightMatrix(void* data, int rows, int cols, float* scales, int* rowSums, object? owner)
        : this(data, rows, cols, WeightType.I8Vnni, owner)
    {
        if (scales == null || rowSums == null)
        {
            throw new ArgumentNullException(scales == null ? nameof(scales) : nameof(rowSums));
        }
        Scales = scales;
        RowSums = rowSums;
    }

    /// <summary>Per-row (output channel) dequantization scales of an <see cref="WeightType.I8Vnni"/> matrix; null otherwise.</summary>
    public float* Scales { get; }

    /// <summary>Σ_k q[n, k] per row of an <see cref="WeightType.I8Vnni"/> matrix (the unsigned-offset compensation); null otherwise.</summary>
    public int* RowSums { get; }

    /// <summary>Pointer to element [0, 0].</summary>
    public void* Data { get; }

    /// <summary>Number of rows (output features, N).</summary>
    public int Rows { get; }

    /// <summary>Number of columns (input features, K).</summary>
    public int Cols { get; }

    public WeightType Type { get; }

    /// <summary>Keeps the memory behind <see cref="Data"/> alive (a memory map, a pinned array…).</summary>
    public object? Owner { get; }

    public int ElementSize => Type switch { WeightType.F32 => 4, WeightType.I8Vnni => 1, _ => 2 };

    /// <summary>Widens row <paramref name="row"/> to float32.</summary>
    public void ReadRow(int row, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Rows);
        if (destination.Length < Cols)
        {
            throw new ArgumentException("Destination is shorter than a row.", nameof(destination));
        }
        if (Type == WeightType.I8Vnni)
        {
            Int8Weights.DequantizeRow(this, row, destination);
            return;
        }
        byte* p = (byte*)Data + (long)row * Cols * ElementSize;
        switch (Type)
        {
            case WeightType.F32:
                new ReadOnlySpan<float>(p, Cols).CopyTo(destination);
                break;
            case WeightType.BF16:
                Bf16.ToSingle(new ReadOnlySpan<ushort>(p, Cols), destination);
                break;
            case WeightType.F16:
                var src = new ReadOnlySpan<Half>(p, Cols);
                for (int i = 0; i < Cols; i++)
                {
                    destination[i] = (float)src[i];
                }
                break;
            default:
                throw new NotSupportedException($"Weight type {Type} is not supported.");
        }
    }

    /// <summary>Creates a matrix over a copy of <paramref name="values"/> in pinned managed memory (tests, small tensors).</summary>
    public static WeightMatrix FromSingles(ReadOnlySpan<float> values, int rows, int cols)
    {
        CheckLength(values.Length, rows, cols);
        float[] pinned = GC.AllocateUninitializedArray<float>(values.Length, pinned: true);
        values.CopyTo(pinned);
        return new WeightMatrix(Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned)), rows, cols, WeightType.F32, pinned);
    }

    /// <summary>Creates a bf16 matrix over a copy of <paramref name="bits"/> in pinned managed memory.</summary>
    public static WeightMatrix FromBf16(ReadOnlySpan<ushort> bits, int rows, int cols)
    {
        CheckLength(bits.Length, rows, cols);
        ushort[] pinned = GC.AllocateUninitializedArray<ushort>(bits.Length, pinned: true);
        bits.CopyTo(pinned);
        return new WeightMatrix(Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned)), rows, cols, WeightType.BF16, pinned);
    }

    private static void CheckLength(int length, int rows, int cols)
    {
        if ((long)rows * cols != length)
        {
            throw new ArgumentException($"Expected {rows}×{cols} = {(long)rows * cols} values, got {length}.");
        }
    }
}
