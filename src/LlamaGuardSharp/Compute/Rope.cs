using System.Numerics.Tensors;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Rotary position embedding, "rotate half" convention (HF Llama): for each head vector x = [x1, x2] (halves),
/// x' = [x1·cos − x2·sin, x2·cos + x1·sin] with cos/sin of angle position · invFreq[i], i &lt; headDim/2.
/// Tables are precomputed once (<see cref="BuildTables"/>), row-major [positions, headDim/2].
/// </summary>
internal static class Rope
{
    /// <summary>
    /// Fills cos/sin tables [positions, invFreq.Length]. The angle is rounded to float32 first (position · invFreq in
    /// float32, as torch computes <c>freqs</c>), then its cosine/sine are computed in double and rounded.
    /// </summary>
    public static void BuildTables(ReadOnlySpan<float> inverseFrequencies, int positions, Span<float> cos, Span<float> sin)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(positions);
        int half = inverseFrequencies.Length;
        if (cos.Length < (long)positions * half || sin.Length < (long)positions * half)
        {
            throw new ArgumentException($"Tables must hold positions×(headDim/2) = {positions}×{half} values.");
        }
        for (int p = 0; p < positions; p++)
        {
            for (int i = 0; i < half; i++)
            {
                float angle = p * inverseFrequencies[i];
                cos[p * half + i] = (float)Math.Cos(angle);
                sin[p * half + i] = (float)Math.Sin(angle);
            }
        }
    }

    /// <summary>
    /// Rotates x [tokens, heads, headDim] in place; token t uses table row <paramref name="positions"/>[t].
    /// </summary>
    public static void Apply(Span<float> x, int tokens, int heads, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, ReadOnlySpan<int> positions)
    {
        if (positions.Length < tokens)
        {
            throw new ArgumentException("Fewer positions than tokens.", nameof(positions));
        }
        Rotate(x, tokens, heads, headDim, cos, sin, positions, 0);
    }

    /// <summary>Rotates x [tokens, heads, headDim] in place for consecutive positions firstPosition, firstPosition + 1, ….</summary>
    public static void Apply(Span<float> x, int tokens, int heads, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, int firstPosition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstPosition);
        Rotate(x, tokens, heads, headDim, cos, sin, [], firstPosition);
    }

    /// <summary>Token t uses positions[t], or firstPosition + t when <paramref name="positions"/> is empty.</summary>
    private static void Rotate(Span<float> x, int tokens, int heads, int headDim, ReadOnlySpan<float> cos, ReadOnlySpan<float> sin, ReadOnlySpan<int> positions, int firstPosition)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(heads);
        if (headDim <= 0 || headDim % 2 != 0)
        {
            throw new ArgumentException($"Head dimension {headDim} must be positive and even.", nameof(headDim));
        }
        if (x.Length < (long)tokens * heads * headDim)
        {
            throw new ArgumentException("x is shorter than tokens×heads×headDim.", nameof(x));
        }
        int half = headDim / 2;
        int tableRows = Math.Min(cos.Length, sin.Length) / half;
        Span<float> x1 = half <= 512 ? stackalloc float[half] : new float[half];
        Span<float> t = half <= 512 ? stackalloc float[half] : new float[half];
        for (int token = 0; token < tokens; token++)
        {
            int p = positions.IsEmpty ? firstPosition + token : positions[token];
            if ((uint)p >= (uint)tableRows)
            {
                throw new ArgumentOutOfRangeException(nameof(positions), $"Position {p} is outside the {tableRows}-row RoPE table.");
            }
            ReadOnlySpan<float> c = cos.Slice(p * half, half), s = sin.Slice(p * half, half);
            for (int h = 0; h < heads; h++)
            {
                Span<float> v = x.Slice((token * heads + h) * headDim, headDim);
                Span<float> lo = v[..half], hi = v[half..];
                lo.CopyTo(x1);
                // lo = x1·c − x2·s ; hi = x2·c + x1·s (products rounded, then summed, like torch's q*cos + rotate_half(q)*sin).
                TensorPrimitives.Multiply(hi, s, t);
                TensorPrimitives.Multiply(lo, c, lo);
                TensorPrimitives.Subtract(lo, t, lo);
                TensorPrimitives.Multiply(x1, s, t);
                TensorPrimitives.Multiply(hi, c, hi);
                TensorPrimitives.Add(hi, t, hi);
            }
        }
    }
}
