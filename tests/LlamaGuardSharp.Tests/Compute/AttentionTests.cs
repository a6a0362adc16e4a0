using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Compute;

public class AttentionTests
{
    public static TheoryData<string, int, int, int, int, int> Cases() => new()
    {
        // mask, queries, keys, heads, kvHeads, headDim
        { "none", 5, 7, 2, 2, 16 },
        { "none", 30, 300, 4, 1, 80 },        // GQA 4:1, key tiles of 128 + a partial one
        { "causal", 17, 17, 4, 2, 32 },       // prefill, several query panels
        { "causal-offset", 3, 40, 8, 2, 128 }, // decode-like: KV cache ahead of the queries
        { "causal-offset", 1, 129, 32, 8, 128 },
        { "causal-offset", 20, 300, 8, 2, 128 }, // text prefill: full 14-row panels at d = 128, partial key chunks
        { "pad", 70, 70, 2, 2, 80 },          // vision-like, pad tail incl. fully padded key tiles
        { "blocks", 9, 200, 4, 1, 64 },       // cross-attention with some rows seeing nothing
        { "blocks", 20, 100, 2, 2, 48 },
        { "none", 4, 9, 2, 1, 20 },           // headDim not a multiple of 16: portable path
        // Rows-in-lanes kernel (≥ 48 rows per KV head): several 48-row panels, partial last panels and key tiles.
        { "causal", 70, 70, 8, 2, 32 },       // 280 rows per KV head, the diagonal tiles mixed
        { "blocks", 60, 200, 4, 1, 64 },      // cross-attention shape, rows that see nothing
        { "pad", 300, 300, 1, 1, 80 },        // vision shape: pad rows × pad keys hidden, 3 key tiles
        { "none", 100, 1000, 2, 2, 16 },      // long key sequence, d = 16
        // Causal with a draft tree at the end (sibling branches hidden from each other), both kernels.
        { "tree", 9, 9, 4, 2, 32 },            // 14-row kernel, the whole tree in one panel
        { "tree", 3, 40, 8, 2, 128 },          // only tree queries, behind a KV cache
        { "tree", 20, 300, 8, 2, 128 },        // rows in lanes (80 per KV head), tree keys in the last key tile
        { "tree", 70, 70, 8, 2, 32 },          // rows in lanes, tree straddling a 64-key tile
    };

    [Avx512Theory("attention kernels AttentionLanes/AttentionTiled")]
    [MemberData(nameof(Cases))]
    public void Compute_MatchesDoubleReference_AndIsThreadCountInvariant(string maskName, int queries, int keys, int heads, int kvHeads, int d)
    {
        Avx512Kernels.Require();
        var rng = new Random(HashCode.Combine(maskName, queries, keys, heads, d));
        float[] q = GemmTests.RandomValues(rng, queries * heads * d);
        float[] k = GemmTests.RandomValues(rng, keys * kvHeads * d);
        float[] v = GemmTests.RandomValues(rng, keys * kvHeads * d);
        for (int i = 0; i < q.Length; i++)
        {
            q[i] *= 3; // sharper softmax: exercises the running-max rescaling
        }
        AttentionMask mask = MakeMask(maskName, queries, keys, rng);
        float scale = 1f / MathF.Sqrt(d);
        float[] o1 = new float[q.Length], o2 = Enumerable.Repeat(float.NaN, q.Length).ToArray();
        Attention.Compute(q, queries, heads, k, v, keys, kvHeads, d, scale, mask, o1, new ComputeContext(1));
        Attention.Compute(q, queries, heads, k, v, keys, kvHeads, d, scale, mask, o2, new ComputeContext(2));
        Assert.Equal(o1, o2);

        double[] expected = DoubleReference(q, queries, heads, k, v, keys, kvHeads, d, scale, mask);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(o1[i] - expected[i]) <= 1e-4 + 1e-4 * Math.Abs(expected[i]), $"{maskName} [{i}] {o1[i]} vs {expected[i]}");
        }

        float[] reference = new float[q.Length];
        AttentionReference.Compute(q, queries, heads, k, v, keys, kvHeads, d, scale, mask, reference, new ComputeContext(2));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(reference[i] - expected[i]) <= 1e-4 + 1e-4 * Math.Abs(expected[i]), $"reference {maskName} [{i}]");
        }
    }

    [Avx512Theory("attention kernels AttentionLanes/AttentionTiled")]
    [InlineData("causal-offset", 70, 100, 8, 2, 128)] // text self-attention behind a KV cache
    [InlineData("blocks", 60, 200, 4, 1, 64)]         // cross-attention
    public void BatchInvariant_TheLastQueriesAloneGetTheBitsOfTheWholeCall(string maskName, int queries, int keys, int heads, int kvHeads, int d)
    {
        Avx512Kernels.Require();
        // The rest of a prompt whose prefix was reused: its queries alone (here down to one, far below the 48 rows per KV
        // head of the rows-in-lanes kernel) must reproduce their rows of the full call.
        var rng = new Random(HashCode.Combine(maskName, queries, keys));
        float[] q = GemmTests.RandomValues(rng, queries * heads * d);
        float[] k = GemmTests.RandomValues(rng, keys * kvHeads * d);
        float[] v = GemmTests.RandomValues(rng, keys * kvHeads * d);
        AttentionMask full = MakeMask(maskName, queries, keys, rng);
        float scale = 1f / MathF.Sqrt(d);
        float[] all = new float[q.Length];
        Attention.Compute(q, queries, heads, k, v, keys, kvHeads, d, scale, full, all, new ComputeContext(2), batchInvariant: true);
        foreach (int tail in new[] { 1, 3, 11, 20 })
        {
            int first = queries - tail, rowFloats = heads * d;
            AttentionMask mask = maskName == "blocks"
                ? AttentionMask.KeyBlocks(full.AllowedBlocks[(first * full.BlocksPerQuery)..].ToArray(), full.BlocksPerQuery, full.BlockSize)
                : AttentionMask.Causal(keys - tail);
            float[] part = new float[tail * rowFloats];
            Attention.Compute(q.AsSpan(first * rowFloats), tail, heads, k, v, keys, kvHeads, d, scale, mask, part, new ComputeContext(1), batchInvariant: true);
            Assert.Equal(all.AsSpan(first * rowFloats).ToArray(), part);
        }
    }

    [Avx512Fact("attention kernels AttentionLanes/AttentionTiled")]
    public void Compute_FullyMaskedRows_AreZero()
    {
        Avx512Kernels.Require();
        const int queries = 3, keys = 40, heads = 2, d = 16;
        var rng = new Random(3);
        float[] q = GemmTests.RandomValues(rng, queries * heads * d), k = GemmTests.RandomValues(rng, keys * heads * d), v = GemmTests.RandomValues(rng, keys * heads * d);
        // Query 1 sees nothing; queries 0 and 2 see one block each.
        var mask = AttentionMask.KeyBlocks([true, false, false, false, false, true], blocks: 2, blockSize: 20);
        float[] o = Enumerable.Repeat(float.NaN, q.Length).ToArray();
        Attention.Compute(q, queries, heads, k, v, keys, heads, d, 0.25f, mask, o, new ComputeContext(2));
        Assert.All(o.AsSpan(heads * d, heads * d).ToArray(), x => Assert.Equal(0f, x));
        Assert.Contains(o.AsSpan(0, heads * d).ToArray(), x => x != 0f);
    }

    [Fact]
    public void Compute_RejectsBadShapes()
    {
        var context = new ComputeContext(1);
        Assert.Throws<ArgumentException>(() => Attention.Compute(new float[32], 1, 3, new float[32], new float[32], 1, 2, 16, 1f, AttentionMask.None, new float[48], context));
        Assert.Throws<ArgumentException>(() => Attention.Compute(new float[16], 2, 1, new float[16], new float[16], 1, 1, 16, 1f, AttentionMask.None, new float[32], context));
        Assert.Throws<ArgumentException>(() => Attention.Compute(new float[32], 2, 1, new float[32], new float[32], 2, 1, 16, 1f, AttentionMask.PadPairs([false]), new float[32], context));
        // A tree mask: no tokens, too many, a token that sees a later one, a tree that ends before the last query.
        Assert.Throws<ArgumentException>(() => AttentionMask.CausalTree(0, 0, []));
        Assert.Throws<ArgumentException>(() => AttentionMask.CausalTree(0, 0, new ulong[65]));
        Assert.Throws<ArgumentException>(() => AttentionMask.CausalTree(0, 0, [1UL, 0b111UL]));
        Assert.Throws<ArgumentOutOfRangeException>(() => AttentionMask.CausalTree(5, 4, [1UL]));
        Assert.Throws<ArgumentException>(() => Attention.Compute(new float[48], 3, 1, new float[48], new float[48], 3, 1, 16, 1f,
            AttentionMask.CausalTree(0, 1, [1UL]), new float[48], context));
    }

    [Avx512Fact("attention kernels AttentionLanes/AttentionTiled")]
    public void CausalTree_HidesSiblingBranchesOnly()
    {
        Avx512Kernels.Require();
        // Context 0..3, then the tree: 4 = "a", 5 = "b" (child of a), 6 = "c" (sibling of a).
        var mask = AttentionMask.CausalTree(0, 4, [0b001UL, 0b011UL, 0b100UL]);
        Assert.True(mask.IsVisible(5, 4));   // b sees its parent
        Assert.False(mask.IsVisible(6, 4));  // c does not see a …
        Assert.False(mask.IsVisible(6, 5));  // … nor a's child
        Assert.True(mask.IsVisible(6, 3));   // but sees the whole context
        Assert.False(mask.IsVisible(3, 4));  // the context is causal
    }

    internal static AttentionMask MakeMask(string name, int queries, int keys, Random rng) => name switch
    {
        "none" => AttentionMask.None,
        "causal" => AttentionMask.Causal(0),
        "causal-offset" => AttentionMask.Causal(keys - queries),
        "pad" => AttentionMask.PadPairs(Enumerable.Range(0, queries).Select(i => i >= queries - 35 || i % 11 == 10).ToArray()),
        "blocks" => MakeBlocks(queries, keys, rng),
        "tree" => MakeTree(queries, keys, rng),
        _ => throw new ArgumentException(name),
    };

    /// <summary>The last min(queries, 9) positions are a random tree (each token's parent is an earlier tree token or the context).</summary>
    private static AttentionMask MakeTree(int queries, int keys, Random rng)
    {
        int tokens = Math.Min(queries, 9);
        var visible = new ulong[tokens];
        for (int t = 0; t < tokens; t++)
        {
            int parent = t == 1 ? -1 : rng.Next(-1, t); // token 1 starts a sibling branch of token 0
            visible[t] = (parent < 0 ? 0UL : visible[parent]) | 1UL << t;
        }
        return AttentionMask.CausalTree(keys - queries, keys - tokens, visible);
    }

    private static AttentionMask MakeBlocks(int queries, int keys, Random rng)
    {
        const int blockSize = 37; // not a multiple of the 32/128 key tiling
        int blocks = (keys + blockSize - 1) / blockSize;
        bool[] allowed = new bool[queries * blocks];
        for (int i = 0; i < queries; i++)
        {
            for (int b = 0; b < blocks; b++)
            {
                allowed[i * blocks + b] = i % 4 != 3 && (i % 3 == 0 || rng.Next(2) == 0); // every 4th row sees nothing
            }
        }
        return AttentionMask.KeyBlocks(allowed, blocks, blockSize);
    }

    internal static double[] DoubleReference(float[] q, int queries, int heads, float[] k, float[] v, int keys, int kvHeads, int d, float scale, AttentionMask mask)
    {
        double[] output = new double[q.Length];
        int group = heads / kvHeads;
        double[] scores = new double[keys];
        for (int i = 0; i < queries; i++)
        {
            for (int h = 0; h < heads; h++)
            {
                int g = h / group;
                double max = double.NegativeInfinity;
                for (int j = 0; j < keys; j++)
                {
                    if (!mask.IsVisible(i, j))
                    {
                        scores[j] = double.NegativeInfinity;
                        continue;
                    }
                    double s = 0;
                    for (int p = 0; p < d; p++)
                    {
                        s += (double)q[(i * heads + h) * d + p] * k[(j * kvHeads + g) * d + p];
                    }
                    scores[j] = s * scale;
                    max = Math.Max(max, scores[j]);
                }
                if (double.IsNegativeInfinity(max))
                {
                    continue;
                }
                double sum = 0;
                for (int j = 0; j < keys; j++)
                {
                    scores[j] = double.IsNegativeInfinity(scores[j]) ? 0 : Math.Exp(scores[j] - max);
                    sum += scores[j];
                }
                for (int j = 0; j < keys; j++)
                {
                    for (int p = 0; p < d; p++)
                    {
                        output[(i * heads + h) * d + p] += scores[j] / sum * v[(j * kvHeads + g) * d + p];
                    }
                }
            }
        }
        return output;
    }
}

public class SoftmaxExpTests
{
    [Avx512Fact("16-lane exp of the softmax")]
    public void ExpNonPositive_IsAccurate_AndHiddenKeysGiveExactZero()
    {
        Avx512Kernels.Require();
        // The special values come first so they fill whole 16-lane vectors (the loop only takes full vectors).
        float[] special = [0f, -1e-30f, -87.3f, -87.5f, -90f, -100f, -103.9f, -104f, -104.1f, -150f, -1e30f, float.NegativeInfinity, -0.5f, -1f, -2f, -3f];
        float[] xs = special.Concat(Enumerable.Range(0, 100_000).Select(i => -87f * i / 99_999f)).ToArray();
        for (int i = 0; i + 16 <= xs.Length; i += 16)
        {
            var result = LlamaGuardSharp.Compute.VectorExp.ExpNonPositive(System.Runtime.Intrinsics.Vector512.Create(xs.AsSpan(i, 16)));
            for (int l = 0; l < 16; l++)
            {
                double x = xs[i + l], expected = Math.Exp(x);
                if (x <= -104)
                {
                    Assert.Equal(0f, result[l]); // hidden keys (−inf) and anything below half the smallest subnormal
                    continue;
                }
                // Normal range: ≈ 1e-7 relative; subnormal results (x < −87.3) within one subnormal step.
                double tolerance = 3e-7 * expected + (x < -87.3 ? 1.5e-45 : 0);
                Assert.True(Math.Abs(result[l] - expected) <= tolerance, $"exp({x:R}) = {result[l]:R}, expected {expected:R}");
            }
        }
    }
}

public class SoftmaxExp2Tests
{
    [Avx512Fact("16-lane exp2 of the softmax")]
    public void Exp2NonPositive_IsAccurate_AndHiddenKeysGiveExactZero()
    {
        Avx512Kernels.Require();
        // Special values first so they fill whole 16-lane vectors; then a dense sweep of the normal range, including
        // every half-integer (the reduction's rounding boundaries).
        float[] special = [0f, -1e-30f, -0.5f, -1.5f, -125.5f, -126f, -130f, -140f, -149f, -150f, -150.4f, -150.6f, -151f, -200f, -1e30f, float.NegativeInfinity];
        float[] xs = special.Concat(Enumerable.Range(0, 100_000).Select(i => -126f * i / 99_999f))
            .Concat(Enumerable.Range(0, 256).Select(i => -0.5f * i)).ToArray();
        int checkedValues = 0;
        for (int i = 0; i + 16 <= xs.Length; i += 16)
        {
            var result = LlamaGuardSharp.Compute.VectorExp.Exp2NonPositive(System.Runtime.Intrinsics.Vector512.Create(xs.AsSpan(i, 16)));
            for (int l = 0; l < 16; l++)
            {
                double x = xs[i + l], expected = Math.Pow(2, x);
                checkedValues++;
                if (x <= -150.5)
                {
                    Assert.Equal(0f, result[l]); // hidden keys (−inf) and anything below half the smallest subnormal
                    continue;
                }
                // Normal range: ≤ 1.5 ulp (≈ 9e-8 relative); subnormal results (x < −126) within one subnormal step.
                double tolerance = 1.5e-7 * expected + (x < -126 ? 1.5e-45 : 0);
                Assert.True(Math.Abs(result[l] - expected) <= tolerance, $"2^{x:R} = {result[l]:R}, expected {expected:R}");
            }
        }
        Assert.True(checkedValues >= 100_000);
    }
}
