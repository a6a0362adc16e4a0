using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Scaled dot-product attention with grouped KV heads:
/// out[i, h, :] = Σ_j softmax_j(scale · q[i, h, :]·k[j, g(h), :]) · v[j, g(h), :] over the keys the mask allows,
/// g(h) = h / (heads / kvHeads). Layouts are token-major: q and out [queries, heads, headDim],
/// k and v [keys, kvHeads, headDim] (the natural output of the projection GEMMs). Softmax in float32.
/// A query that sees no key gets a zero row. Never materialises the queries × keys score matrix (tiled online
/// softmax, see <see cref="AttentionLanes"/> and <see cref="AttentionTiled"/>); results are bit-identical for every
/// thread count. With <c>batchInvariant</c>, a query's result does not depend on how many queries the call has either
/// (the rows-in-lanes kernel even for a handful of rows, where the 14-row kernel would sum in another order).
/// </summary>
internal static class Attention
{
    public static unsafe void Compute(
        ReadOnlySpan<float> q, int queries, int heads,
        ReadOnlySpan<float> k, ReadOnlySpan<float> v, int keys, int kvHeads,
        int headDim, float scale, AttentionMask mask, Span<float> output, ComputeContext context, bool batchInvariant = false)
    {
        CheckArguments(q.Length, queries, heads, k.Length, v.Length, keys, kvHeads, headDim, mask, output.Length, context);
        long qLen = (long)queries * heads * headDim;
        if (queries == 0)
        {
            return;
        }
        if (keys == 0)
        {
            output[..(int)qLen].Clear(); // nothing visible anywhere
            return;
        }
        // The tiled kernel keeps per-item tiles on the stack (≈ 0.7 KiB × headDim), so very wide heads take the reference.
        if (!Avx512F.IsSupported || !Vector512.IsHardwareAccelerated || headDim % 16 != 0 || headDim > 256)
        {
            AttentionReference.Compute(q, queries, heads, k, v, keys, kvHeads, headDim, scale, mask, output, context);
            return;
        }
        long start = context.Profile is null ? 0 : Stopwatch.GetTimestamp();
        fixed (float* pq = q, pk = k, pv = v, po = output)
        {
            AttentionTiled.Run(pq, queries, heads, pk, pv, keys, kvHeads, headDim, scale, mask, po, context, batchInvariant);
        }
        context.Profile?.Record("attention", $"queries={queries} keys={keys} heads={heads}/{kvHeads} d={headDim}",
            4.0 * queries * keys * heads * headDim, start);
    }

    /// <summary>Shape and argument checks shared by the tuned kernel and <see cref="AttentionReference"/>.</summary>
    internal static void CheckArguments(int qLength, int queries, int heads, int kLength, int vLength, int keys, int kvHeads, int headDim,
        AttentionMask mask, int outputLength, ComputeContext context)
    {
        ArgumentNullException.ThrowIfNull(mask);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfNegative(queries);
        ArgumentOutOfRangeException.ThrowIfNegative(keys);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kvHeads);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headDim);
        if (heads % kvHeads != 0)
        {
            throw new ArgumentException($"{heads} query heads are not a multiple of {kvHeads} KV heads.");
        }
        long qLen = (long)queries * heads * headDim, kvLen = (long)keys * kvHeads * headDim;
        if (qLength < qLen || outputLength < qLen || kLength < kvLen || vLength < kvLen)
        {
            throw new ArgumentException("Attention buffers are shorter than their shapes.");
        }
        mask.CheckCovers(queries, keys);
    }
}
