using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Compute;

/// <summary>
/// The int8 attention of the int8 path's vision encoder (<see cref="AttentionInt8"/>): against its scalar statement
/// (same quantization, <see cref="Math.Pow"/> for 2^x), against float64 attention within the quantization bound, bit-identical
/// for every thread count, masks, the dither that keeps a long tail of small probabilities, K smoothing, edge rows.
/// </summary>
public class AttentionInt8Tests
{
    public static TheoryData<string, int, int, int, int> Cases() => new()
    {
        // mask, queries, keys, heads, headDim
        { "none", 5, 7, 2, 16 },
        { "none", 30, 300, 3, 80 },     // vision head dim, keys not a multiple of 8 or 16
        { "pad", 70, 70, 2, 80 },       // vision mask: pad queries do not see pad keys
        { "pad", 300, 300, 1, 80 },
        { "causal", 17, 17, 4, 32 },
        { "blocks", 9, 200, 4, 64 },    // rows that see nothing get zeros
        { "none", 4, 9, 2, 20 },        // head dim not a multiple of 8: partial panels in both products
        { "none", 33, 1000, 2, 6 },     // tiny head dim (the golden models' vision heads are small)
        { "pad", 1608, 1608, 1, 80 },   // one real tile: 1601 tokens + 7 pads
    };

    [VnniTheory("int8 attention")]
    [MemberData(nameof(Cases))]
    public void Compute_MatchesItsScalarStatement_AndFp32_AndIsThreadCountInvariant(string maskName, int queries, int keys, int heads, int d)
    {
        VnniKernels.Require();
        var rng = new Random(HashCode.Combine(maskName, queries, keys, heads, d));
        (float[] q, float[] k, float[] v) = Inputs(rng, queries, keys, heads, d, sharpness: 3);
        AttentionMask mask = AttentionTests.MakeMask(maskName, queries, keys, rng);
        float scale = 1f / MathF.Sqrt(d);
        float[] one = new float[q.Length], two = Enumerable.Repeat(float.NaN, q.Length).ToArray(), reference = new float[q.Length];
        AttentionInt8.Compute(q, queries, k, v, keys, heads, d, scale, mask, one, new ComputeContext(1));
        AttentionInt8.Compute(q, queries, k, v, keys, heads, d, scale, mask, two, new ComputeContext(2));
        Assert.Equal(one, two);

        AttentionInt8.Reference(q, queries, k, v, keys, heads, d, scale, mask, reference);
        double[] exact = AttentionTests.DoubleReference(q, queries, heads, k, v, keys, heads, d, scale, mask);
        double vMax = v.Max(MathF.Abs);
        double sumSquares = 0;
        for (int i = 0; i < exact.Length; i++)
        {
            sumSquares += (one[i] - exact[i]) * (one[i] - exact[i]);
            if (exact[i] == 0 && !AnyVisible(mask, i / (heads * d), keys))
            {
                Assert.Equal(0f, one[i]); // a query that sees no key: zero row, as the fp32 kernels give
            }
        }
        // The scalar statement performs the same operations: the same bits.
        Assert.Equal(reference, one);
        // Against exact attention: the error of int8 Q·K, 8-bit probabilities and per-channel int8 V (0.05–0.22 % of max |v| rms
        // on these cases when written).
        double rms = Math.Sqrt(sumSquares / exact.Length);
        Assert.True(rms <= 0.005 * vMax, $"rms error against float64 attention {rms} (max |v| {vMax})");
    }

    [VnniFact("int8 attention")]
    public void Dither_KeepsTheMassOfALongTailOfSmallProbabilities()
    {
        VnniKernels.Require();
        // One key far above 3000 others, each of which alone is below half a probability level (p ≈ 1/600 of the top):
        // together they hold ~5× the top key's mass. Rounding to nearest would drop them all and return the top key's
        // value; the dithered levels keep their mass.
        const int keys = 3001, d = 16;
        var rng = new Random(7);
        float[] q = new float[d], k = new float[keys * d], v = new float[keys * d];
        q[0] = 1;
        k[0] = 6.4f; // the top key scores 6.4 nats above the others (scale 1): each other p ≈ e^−6.4 ≈ 1/600 of the top
        for (int j = 0; j < keys; j++)
        {
            v[j * d] = j == 0 ? 1f : -1f; // channel 0: +1 for the top key, −1 for the tail
            for (int c = 1; c < d; c++)
            {
                v[j * d + c] = (float)(rng.NextDouble() * 2 - 1);
            }
        }
        float[] output = new float[d];
        AttentionInt8.Compute(q, 1, k, v, keys, 1, d, 1f, AttentionMask.None, output, new ComputeContext(2));
        double[] exact = AttentionTests.DoubleReference(q, 1, 1, k, v, keys, 1, d, 1f, AttentionMask.None);
        Assert.True(exact[0] < -0.6, $"the test's premise: the tail dominates ({exact[0]})");
        Assert.True(Math.Abs(output[0] - exact[0]) <= 0.03, $"channel 0: {output[0]} against {exact[0]}");
    }

    [VnniFact("int8 attention")]
    public void SharedKeyOffset_DoesNotCostPrecision()
    {
        VnniKernels.Require();
        // A large bias shared by every key (as a k_proj bias gives) would stretch every key's int8 scale without the smoothing.
        const int queries = 40, keys = 200, heads = 2, d = 80;
        var rng = new Random(11);
        (float[] q, float[] k, float[] v) = Inputs(rng, queries, keys, heads, d, sharpness: 3);
        float[] shifted = (float[])k.Clone();
        for (int i = 0; i < shifted.Length; i++)
        {
            shifted[i] += 40 * ((i % d) % 3 - 1);
        }
        float[] plain = new float[q.Length], offset = new float[q.Length];
        AttentionInt8.Compute(q, queries, k, v, keys, heads, d, 0.125f, AttentionMask.None, plain, new ComputeContext(2));
        AttentionInt8.Compute(q, queries, shifted, v, keys, heads, d, 0.125f, AttentionMask.None, offset, new ComputeContext(2));
        double[] exact = AttentionTests.DoubleReference(q, queries, heads, k, v, keys, heads, d, 0.125f, AttentionMask.None);
        double Rms(float[] o) => Math.Sqrt(o.Select((x, i) => (x - exact[i]) * (x - exact[i])).Sum() / o.Length);
        Assert.True(Rms(offset) <= 1.5 * Rms(plain) + 1e-4, $"rms with a shared key offset {Rms(offset)} against {Rms(plain)}");
    }

    [VnniFact("int8 attention")]
    public void NonFiniteInput_GivesNaN_NotAVerdictOfZeros()
    {
        VnniKernels.Require();
        const int n = 20, d = 16;
        var rng = new Random(3);
        (float[] q, float[] k, float[] v) = Inputs(rng, n, n, 1, d, sharpness: 1);
        foreach (float[] target in new[] { q, k, v })
        {
            float saved = target[5];
            target[5] = float.PositiveInfinity;
            float[] output = new float[n * d];
            AttentionInt8.Compute(q, n, k, v, n, 1, d, 0.25f, AttentionMask.None, output, new ComputeContext(2));
            Assert.Contains(output, float.IsNaN);
            target[5] = saved;
        }
    }

    [Fact]
    public void Compute_RejectsBadShapes()
    {
        var context = new ComputeContext(1);
        Assert.Throws<ArgumentException>(() => AttentionInt8.Compute(new float[16], 2, new float[16], new float[16], 1, 1, 16, 1f, AttentionMask.None, new float[32], context));
        Assert.Throws<ArgumentException>(() => AttentionInt8.Compute(new float[32], 2, new float[32], new float[32], 2, 1, 16, 1f, AttentionMask.PadPairs([false]), new float[32], context));
    }

    private static (float[] Q, float[] K, float[] V) Inputs(Random rng, int queries, int keys, int heads, int d, float sharpness)
    {
        float[] q = GemmTests.RandomValues(rng, queries * heads * d);
        for (int i = 0; i < q.Length; i++)
        {
            q[i] *= sharpness;
        }
        return (q, GemmTests.RandomValues(rng, keys * heads * d), GemmTests.RandomValues(rng, keys * heads * d));
    }

    private static bool AnyVisible(AttentionMask mask, int query, int keys)
    {
        for (int j = 0; j < keys; j++)
        {
            if (mask.IsVisible(query, j))
            {
                return true;
            }
        }
        return false;
    }
}
