using System.Numerics.Tensors;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Two-pass scalar reference of <see cref="Attention.Compute"/> (materialises one score row per query and head): the
/// oracle for the tiled kernel's tests. Scaled dot-product attention with grouped KV heads:
/// out[i, h, :] = Σ_j softmax_j(scale · q[i, h, :]·k[j, g(h), :]) · v[j, g(h), :] over the keys the mask allows,
/// g(h) = h / (heads / kvHeads). Layouts are token-major: q and out [queries, heads, headDim],
/// k and v [keys, kvHeads, headDim] (the natural output of the projection GEMMs). Softmax in float32.
/// A query that sees no key gets a zero row.
/// </summary>
internal static class AttentionReference
{
    public static void Compute(
        ReadOnlySpan<float> q, int queries, int heads,
        ReadOnlySpan<float> k, ReadOnlySpan<float> v, int keys, int kvHeads,
        int headDim, float scale, AttentionMask mask, Span<float> output, ComputeContext context)
    {
        Attention.CheckArguments(q.Length, queries, heads, k.Length, v.Length, keys, kvHeads, headDim, mask, output.Length, context);
        long qLen = (long)queries * heads * headDim, kvLen = (long)keys * kvHeads * headDim;
        // Copies let the parallel body capture the inputs (clarity over speed in the reference).
        float[] qa = q[..(int)qLen].ToArray(), ka = k[..(int)kvLen].ToArray(), va = v[..(int)kvLen].ToArray();
        float[] outArray = new float[qLen];
        int group = heads / kvHeads;
        context.For(queries * heads, task =>
        {
            int i = task / heads, h = task % heads, g = h / group;
            float[] scores = new float[keys];
            var qRow = new ReadOnlySpan<float>(qa, (i * heads + h) * headDim, headDim);
            float max = float.NegativeInfinity;
            for (int j = 0; j < keys; j++)
            {
                if (!mask.IsVisible(i, j))
                {
                    scores[j] = float.NegativeInfinity;
                    continue;
                }
                float s = scale * TensorPrimitives.Dot(qRow, new ReadOnlySpan<float>(ka, (j * kvHeads + g) * headDim, headDim));
                scores[j] = s;
                max = MathF.Max(max, s);
            }
            var outRow = new Span<float>(outArray, (i * heads + h) * headDim, headDim);
            if (float.IsNegativeInfinity(max))
            {
                return; // nothing visible: zero row
            }
            float sum = 0;
            for (int j = 0; j < keys; j++)
            {
                float e = float.IsNegativeInfinity(scores[j]) ? 0f : MathF.Exp(scores[j] - max);
                scores[j] = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int j = 0; j < keys; j++)
            {
                if (scores[j] != 0f)
                {
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(va, (j * kvHeads + g) * headDim, headDim), scores[j] * inv, outRow, outRow);
                }
            }
        });
        outArray.CopyTo(output);
    }
}
