using System.Numerics.Tensors;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Matrix multiply with the weight transposed, the shape of every <c>nn.Linear</c>:
/// C[m, n] = Σ_k A[m, k] · W[n, k] (+ bias[n]). A and C are float32 row-major; W is bf16/f16/f32 in place.
/// Accumulation is float32.
/// </summary>
public static class Gemm
{
    /// <summary>
    /// C[M, N] = A[M, K] · Wᵀ (+ bias). <paramref name="a"/> holds M rows of K = W.Cols floats,
    /// <paramref name="c"/> receives M rows of N = W.Rows floats. <paramref name="bias"/> may be empty.
    /// </summary>
    public static void MatMulTransposed(ReadOnlySpan<float> a, int m, WeightMatrix w, ReadOnlySpan<float> bias, Span<float> c, ComputeContext context)
    {
        int k = w.Cols, n = w.Rows;
        CheckShapes(a.Length, m, k, n, bias.Length, c.Length);
        float[] aCopy = a[..(m * k)].ToArray(); // spans cannot cross into the lambda
        float[]? biasCopy = bias.IsEmpty ? null : bias.ToArray();
        float[] cOut = new float[(long)m * n];
        const int RowBlock = 64;
        int blocks = (n + RowBlock - 1) / RowBlock;
        context.For(blocks, block =>
        {
            Span<float> wRow = new float[k];
            int n0 = block * RowBlock, n1 = Math.Min(n, n0 + RowBlock);
            for (int j = n0; j < n1; j++)
            {
                w.ReadRow(j, wRow);
                float b = biasCopy is null ? 0f : biasCopy[j];
                for (int i = 0; i < m; i++)
                {
                    cOut[(long)i * n + j] = TensorPrimitives.Dot(new ReadOnlySpan<float>(aCopy, i * k, k), wRow) + b;
                }
            }
        });
        cOut.AsSpan().CopyTo(c);
    }

    internal static void CheckShapes(int aLength, int m, int k, int n, int biasLength, int cLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        if ((long)m * k > aLength)
        {
            throw new ArgumentException($"A holds {aLength} values, fewer than M×K = {m}×{k}.");
        }
        if ((long)m * n > cLength)
        {
            throw new ArgumentException($"C holds {cLength} values, fewer than M×N = {m}×{n}.");
        }
        if (biasLength != 0 && biasLength != n)
        {
            throw new ArgumentException($"Bias has {biasLength} values, expected 0 or N = {n}.");
        }
    }
}
