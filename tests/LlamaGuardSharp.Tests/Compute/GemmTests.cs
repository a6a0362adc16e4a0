using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Compute;

public class GemmTests
{
    /// <summary>Shapes and weight types; the type goes by name, as the test methods are public and the kernel types internal.</summary>
    public static TheoryData<int, int, int, string> Shapes()
    {
        var data = new TheoryData<int, int, int, string>();
        // Sizes around the blocking: MR = 14, NR = 32, KC = 2048, the small-M threshold, the 16-wide K vectors.
        (int M, int K, int N)[] shapes =
        [
            (1, 1, 1), (1, 17, 5), (2, 33, 7), (3, 16, 31), (7, 15, 33), (7, 129, 65), (8, 16, 32), (13, 63, 17),
            (14, 32, 32), (15, 31, 63), (16, 257, 64), (17, 65, 129), (29, 300, 33), (31, 513, 95), (33, 16, 1),
            (63, 129, 47), (65, 7, 160),
            // Last row panels of 9–12 rows (the 12-row kernel): straight into C, on a private tile at an N edge, and
            // accumulating over several K blocks.
            (24, 70, 64), (40, 100, 70), (26, 2600, 96),
        ];
        int index = 0;
        foreach (var (m, k, n) in shapes)
        {
            foreach (WeightType type in new[] { WeightType.BF16, WeightType.F32, WeightType.F16 })
            {
                // Every shape in bf16 (the model's type); the other types on every other shape to stay fast.
                if (type == WeightType.BF16 || index % 2 == 0)
                {
                    data.Add(m, k, n, type.ToString());
                }
            }
            index++;
        }
        data.Add(1, 4096, 100, nameof(WeightType.BF16));
        // Decode row-dot: K with a 32-wide unrolled part, one 16-wide step and a scalar tail; rows past a multiple of 4.
        data.Add(1, 53, 9, nameof(WeightType.BF16));
        data.Add(1, 53, 9, nameof(WeightType.F32));
        data.Add(1, 4112, 38, nameof(WeightType.BF16));
        data.Add(1035, 40, 33, nameof(WeightType.BF16)); // more than one MC block of rows
        data.Add(20, 1100, 40, nameof(WeightType.BF16)); // one K block of 1100 (not a multiple of 16) in one row block
        data.Add(31, 4096, 200, nameof(WeightType.BF16)); // model-sized K: 2 K blocks, edge rows and columns, in-item B packing
        data.Add(130, 4500, 70, nameof(WeightType.BF16)); // one row block: 3 K blocks, A packed in parts of 8 + 2 panels
        // Several row blocks × K blocks × column chunks, with a last row block of one partial panel: the pipelined
        // schedule (A of the next row block packed while the current one computes, C kept across K blocks).
        data.Add(1045, 1100, 300, nameof(WeightType.BF16)); // 32 + 32 + 11 panels (> SingleRowBlockMaxRows), the last of 9 rows
        data.Add(905, 1100, 300, nameof(WeightType.BF16));  // 65 panels in one row block (≤ SingleRowBlockMaxRows): B packed per item
        data.Add(1850, 800, 40, nameof(WeightType.BF16)); // five row blocks: the three A slots are reused
        data.Add(1040, 2100, 40, nameof(WeightType.BF16)); // three row blocks × 2 K blocks: B packed up front per K block
        data.Add(300, 14336, 70, nameof(WeightType.BF16)); // one row block, packed A > 16 MB: the wider column chunks
        return data;
    }

    [Avx512Theory("packed GEMM and row-dot kernels")]
    [MemberData(nameof(Shapes))]
    public void MatMulTransposed_MatchesDoubleReference_AndIsThreadCountInvariant(int m, int k, int n, string weightType)
    {
        Avx512Kernels.Require();
        var type = Enum.Parse<WeightType>(weightType);
        var rng = new Random(HashCode.Combine(m, k, n, type));
        float[] a = RandomValues(rng, m * k);
        float[] bias = RandomValues(rng, n);
        using var weights = TestWeights.Create(rng, n, k, type);
        float[] c1 = new float[m * n], c2 = new float[m * n];
        Gemm.MatMulTransposed(a, m, weights.Matrix, bias, c1, new ComputeContext(1));
        Gemm.MatMulTransposed(a, m, weights.Matrix, bias, c2, new ComputeContext(2));
        Assert.Equal(c1, c2); // bit-identical whatever the thread count

        float[] row = new float[k];
        for (int j = 0; j < n; j++)
        {
            weights.Matrix.ReadRow(j, row);
            for (int i = 0; i < m; i++)
            {
                double expected = bias[j], magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    expected += (double)a[i * k + p] * row[p];
                    magnitude += Math.Abs((double)a[i * k + p] * row[p]);
                }
                // The golden tolerance, plus float32 accumulation error, which grows with Σ|a·w| (it matters only at
                // K in the thousands, where a near-cancelling sum of 14336 terms is off by ≈ 1e-4 absolute).
                double tolerance = 1e-4 + 1e-4 * Math.Abs(expected) + 2e-7 * magnitude;
                Assert.True(Math.Abs(c1[i * n + j] - expected) <= tolerance, $"[{i},{j}] {c1[i * n + j]} vs {expected} (Σ|a·w| {magnitude})");
            }
        }
    }

    [Fact]
    public void MatMulTransposed_MatchesScalarReference_AndHandlesNoBias()
    {
        var rng = new Random(7);
        const int m = 20, k = 70, n = 45;
        float[] a = RandomValues(rng, m * k);
        using var weights = TestWeights.Create(rng, n, k, WeightType.BF16);
        float[] fast = new float[m * n], reference = new float[m * n];
        Gemm.MatMulTransposed(a, m, weights.Matrix, [], fast, new ComputeContext(2));
        GemmReference.MatMulTransposed(a, m, weights.Matrix, [], reference);
        for (int i = 0; i < fast.Length; i++)
        {
            Assert.True(Math.Abs(fast[i] - reference[i]) <= 1e-4 + 1e-4 * Math.Abs(reference[i]), $"{i}: {fast[i]} vs {reference[i]}");
        }
    }

    [Avx512Theory("row-dot streaming kernel")]
    [InlineData(2, 53, 9, nameof(WeightType.BF16))]    // K: 32-wide steps, one 16-wide step, a scalar tail; N % 4 != 0
    [InlineData(3, 4112, 38, nameof(WeightType.BF16))] // a forced 3-token decode step at model-like K
    [InlineData(4, 100, 13, nameof(WeightType.F16))]
    [InlineData(5, 64, 8, nameof(WeightType.F32))]
    [InlineData(7, 53, 9, nameof(WeightType.BF16))]    // 4 rows together, then 3
    [InlineData(9, 4096, 6, nameof(WeightType.BF16))]  // 4 + 4 + 1: the largest M of the streaming kernel
    public void SmallM_EveryRowHasTheBitsOfItsOwnOneRowCall(int m, int k, int n, string weightType)
    {
        Avx512Kernels.Require();
        var type = Enum.Parse<WeightType>(weightType);
        // The streaming kernel computes up to 4 rows of A per pass over the weights; how many rows share a pass must not
        // change any row's result (Extend of several forced tokens then agrees with stepping them to the bit in the GEMMs).
        var rng = new Random(HashCode.Combine(m, k, n, type));
        float[] a = RandomValues(rng, m * k);
        float[] bias = RandomValues(rng, n);
        using var weights = TestWeights.Create(rng, n, k, type);
        float[] together = new float[m * n];
        Gemm.MatMulTransposed(a, m, weights.Matrix, bias, together, new ComputeContext(2));
        for (int i = 0; i < m; i++)
        {
            float[] alone = new float[n];
            Gemm.MatMulTransposed(a.AsSpan(i * k, k), 1, weights.Matrix, bias, alone, new ComputeContext(1));
            Assert.Equal(alone, together.AsSpan(i * n, n).ToArray());
        }
    }

    [Avx512Theory("packed GEMM at small M")]
    [InlineData(37, 300, 70, nameof(WeightType.BF16))]  // 2 full 14-row panels + 9 rows; K in 1 block
    [InlineData(470, 4200, 45, nameof(WeightType.BF16))] // one row block of 34 panels (more than MC), 3 K blocks, an N edge
    [InlineData(1040, 200, 45, nameof(WeightType.BF16))] // three row blocks (448 + 448 + 144): B packed up front
    [InlineData(12, 96, 33, nameof(WeightType.F16))]
    public void BatchInvariant_EveryRowHasTheBitsOfTheWholeCall(int m, int k, int n, string weightType)
    {
        Avx512Kernels.Require();
        var type = Enum.Parse<WeightType>(weightType);
        // A prompt run as a cached prefix plus the rest must give the rows of the prompt run at once: with
        // batchInvariant, any run of rows (1 to M, starting anywhere) reproduces its rows of the full call bit for bit —
        // including fewer rows than the packed kernel's threshold, where the default takes streaming dot products.
        var rng = new Random(HashCode.Combine(m, k, n, type));
        float[] a = RandomValues(rng, m * k);
        float[] bias = RandomValues(rng, n);
        using var weights = TestWeights.Create(rng, n, k, type);
        using var w1 = TestWeights.Create(rng, 40, k, WeightType.BF16);
        float[] all = new float[m * n], all1 = new float[m * 40];
        Gemm.MatMulTransposed(a, m, weights.Matrix, bias, all, new ComputeContext(2), batchInvariant: true);
        float[] fusedAll0 = new float[m * n];
        Gemm.MatMulTransposed(a, m, weights.Matrix, fusedAll0, w1.Matrix, all1, new ComputeContext(2), batchInvariant: true);
        foreach (var (first, rows) in new[] { (m - 1, 1), (m - 3, 3), (m - 9, 9), (0, 10), (5, m - 5) })
        {
            float[] part = new float[rows * n];
            Gemm.MatMulTransposed(a.AsSpan(first * k, rows * k), rows, weights.Matrix, bias, part, new ComputeContext(1), batchInvariant: true);
            Assert.Equal(all.AsSpan(first * n, rows * n).ToArray(), part);
            float[] part0 = new float[rows * n], part1 = new float[rows * 40];
            Gemm.MatMulTransposed(a.AsSpan(first * k, rows * k), rows, weights.Matrix, part0, w1.Matrix, part1, new ComputeContext(2), batchInvariant: true);
            Assert.Equal(fusedAll0.AsSpan(first * n, rows * n).ToArray(), part0);
            Assert.Equal(all1.AsSpan(first * 40, rows * 40).ToArray(), part1);
        }
    }

    [Fact]
    public void MatMulTransposed_OverwritesOutput_AndRepeatsExactly()
    {
        var rng = new Random(11);
        const int m = 40, k = 300, n = 70;
        float[] a = RandomValues(rng, m * k);
        using var weights = TestWeights.Create(rng, n, k, WeightType.BF16);
        float[] first = new float[m * n];
        float[] second = Enumerable.Repeat(float.NaN, m * n).ToArray(); // stale garbage must not leak in
        var context = new ComputeContext(2);
        Gemm.MatMulTransposed(a, m, weights.Matrix, [], first, context);
        Gemm.MatMulTransposed(a, m, weights.Matrix, [], second, context);
        Assert.Equal(first, second);
    }

    [Fact]
    public void MatMulTransposed_RejectsBadShapes()
    {
        using var weights = TestWeights.Create(new Random(1), 4, 3, WeightType.F32);
        var context = new ComputeContext(1);
        Assert.Throws<ArgumentException>(() => Gemm.MatMulTransposed(new float[5], 2, weights.Matrix, [], new float[8], context));
        Assert.Throws<ArgumentException>(() => Gemm.MatMulTransposed(new float[6], 2, weights.Matrix, [], new float[7], context));
        Assert.Throws<ArgumentException>(() => Gemm.MatMulTransposed(new float[6], 2, weights.Matrix, new float[3], new float[8], context));
    }

    public static TheoryData<int, int, int, int, int> FusedShapes() => new()
    {
        // M, K and the three N: below the packed threshold, single row block (in-item B packing), several row blocks
        // (B packed up front), widths that are not multiples of a 32-column panel, chunks straddling two weights.
        { 3, 70, 40, 9, 33 },
        { 20, 1100, 96, 32, 32 },
        { 45, 300, 45, 17, 0 },
        { 905, 200, 70, 33, 100 },
        { 1045, 200, 70, 33, 100 },
        { 1035, 40, 256, 64, 64 },
    };

    [Avx512Theory("fused packed GEMM")]
    [MemberData(nameof(FusedShapes))]
    public void FusedMatMulTransposed_EqualsSeparateCallsBitForBit(int m, int k, int n0, int n1, int n2)
    {
        Avx512Kernels.Require();
        var rng = new Random(HashCode.Combine(m, k, n0, n1, n2));
        float[] a = RandomValues(rng, m * k);
        using var w0 = TestWeights.Create(rng, n0, k, WeightType.BF16);
        using var w1 = TestWeights.Create(rng, n1, k, WeightType.F32);
        using var w2 = n2 > 0 ? TestWeights.Create(rng, n2, k, WeightType.BF16) : null;
        foreach (int threads in new[] { 1, 2 })
        {
            var context = new ComputeContext(threads);
            float[] s0 = new float[m * n0], s1 = new float[m * n1], s2 = new float[m * n2];
            Gemm.MatMulTransposed(a, m, w0.Matrix, [], s0, context);
            Gemm.MatMulTransposed(a, m, w1.Matrix, [], s1, context);
            if (w2 is not null)
            {
                Gemm.MatMulTransposed(a, m, w2.Matrix, [], s2, context);
            }
            float[] f0 = Enumerable.Repeat(float.NaN, m * n0).ToArray(), f1 = new float[m * n1], f2 = new float[m * n2];
            if (w2 is null)
            {
                Gemm.MatMulTransposed(a, m, w0.Matrix, f0, w1.Matrix, f1, context);
            }
            else
            {
                Gemm.MatMulTransposed(a, m, w0.Matrix, f0, w1.Matrix, f1, w2.Matrix, f2, context);
            }
            Assert.Equal(s0, f0);
            Assert.Equal(s1, f1);
            Assert.Equal(s2, f2);
        }
    }

    [Fact]
    public void FusedMatMulTransposed_RejectsWeightsOfDifferentWidthOrShortOutputs()
    {
        var rng = new Random(5);
        using var w0 = TestWeights.Create(rng, 8, 16, WeightType.BF16);
        using var w1 = TestWeights.Create(rng, 8, 15, WeightType.BF16);
        var context = new ComputeContext(1);
        var e = Assert.Throws<ArgumentException>(() => Gemm.MatMulTransposed(new float[20 * 16], 20, w0.Matrix, new float[160], w1.Matrix, new float[160], context));
        Assert.Contains("share K", e.Message);
        Assert.Throws<ArgumentException>(() => Gemm.MatMulTransposed(new float[20 * 16], 20, w0.Matrix, new float[160], w0.Matrix, new float[159], context));
    }

    [Avx512Theory("GELU applied while packing A")]
    [InlineData(1045, 320, 70)] // several row blocks, pipelined A packing with the activation
    [InlineData(905, 320, 70)]  // one row block of 65 panels
    [InlineData(20, 1104, 40)]  // one row block with a partial panel (rows 14..19)
    [InlineData(5, 64, 9)]      // few rows: activation applied to a copy, streaming kernel
    [InlineData(30, 70, 33)]    // K not a multiple of 16: activation applied to a copy
    public void MatMulTransposedGelu_EqualsGeluThenMatMulBitForBit(int m, int k, int n)
    {
        Avx512Kernels.Require();
        var rng = new Random(HashCode.Combine(m, k, n, "gelu"));
        float[] a = RandomValues(rng, m * k);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] *= i % 97 == 0 ? 12f : 2.5f; // mostly within ±3 (float path), some vectors with large values (double path)
        }
        float[] original = (float[])a.Clone();
        float[] bias = RandomValues(rng, n);
        using var weights = TestWeights.Create(rng, n, k, WeightType.BF16);
        foreach (int threads in new[] { 1, 2 })
        {
            var context = new ComputeContext(threads);
            float[] activated = new float[a.Length], expected = new float[m * n], fused = new float[m * n];
            Gelu.Apply(a, activated, context);
            Gemm.MatMulTransposed(activated, m, weights.Matrix, bias, expected, context);
            Gemm.MatMulTransposedGelu(a, m, weights.Matrix, bias, fused, context);
            Assert.Equal(expected, fused);
            Assert.Equal(original, a); // the input is not modified
        }
    }

    internal static float[] RandomValues(Random rng, int count)
    {
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = (float)(rng.NextDouble() * 2 - 1);
        }
        return values;
    }
}
