namespace LlamaGuardSharp.Compute;

/// <summary>
/// Scalar, single-threaded GEMM with the same contract as <see cref="Gemm.MatMulTransposed"/>: the oracle the tuned
/// kernels are tested against (and a readable statement of what they compute). Float32 accumulation in K order.
/// </summary>
internal static class GemmReference
{
    public static void MatMulTransposed(ReadOnlySpan<float> a, int m, WeightMatrix w, ReadOnlySpan<float> bias, Span<float> c)
    {
        ArgumentNullException.ThrowIfNull(w);
        int k = w.Cols, n = w.Rows;
        Gemm.CheckShapes(a.Length, m, k, n, bias.Length, c.Length);
        float[] row = new float[k];
        for (int j = 0; j < n; j++)
        {
            w.ReadRow(j, row);
            for (int i = 0; i < m; i++)
            {
                float s = 0f;
                for (int p = 0; p < k; p++)
                {
                    s += a[i * k + p] * row[p];
                }
                c[i * n + j] = bias.IsEmpty ? s : s + bias[j];
            }
        }
    }
}
