namespace LlamaGuardSharp.Compute;

/// <summary>Argument checks and row-parallel scheduling shared by the normalisation kernels.</summary>
internal static class RowKernels
{
    /// <summary>Rows per work item: enough work (≥ 64 Ki elements) to amortise scheduling, at least 1.</summary>
    public static int RowsPerItem(int dim) => Math.Max(1, (1 << 16) / Math.Max(1, dim));

    public static void CheckRows(int xLength, int yLength, int rows, int dim)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dim);
        long needed = (long)rows * dim;
        if (xLength < needed || yLength < needed)
        {
            throw new ArgumentException($"Input or output holds fewer than rows×dim = {rows}×{dim} values.");
        }
    }

    public static void CheckVector(int length, int dim, string name)
    {
        if (length != dim)
        {
            throw new ArgumentException($"{name} has {length} values, expected {dim}.", name);
        }
    }

    public static void CheckSameLength(int a, int b, int c)
    {
        if (a != b || a != c)
        {
            throw new ArgumentException($"Lengths differ ({a}, {b}, {c}).");
        }
    }
}
