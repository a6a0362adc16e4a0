using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Model;

/// <summary>
/// Rotary position embedding with llama3 frequency scaling, rotate-half form (HF-layout q/k weights, docs/model.md).
/// Frequencies are computed in float32 like the references; angles are pos·inv_freq in float32.
/// Immutable and thread-safe.
/// </summary>
internal sealed class RotaryEmbedding
{
    private readonly float[] _invFreq;

    public RotaryEmbedding(int headDim, double theta, RopeScaling? scaling)
    {
        if (headDim % 2 != 0)
        {
            throw new ArgumentException($"RoPE needs an even head dimension, got {headDim}.", nameof(headDim));
        }
        HeadDim = headDim;
        _invFreq = new float[headDim / 2];
        for (int i = 0; i < _invFreq.Length; i++)
        {
            float exponent = 2f * i / headDim;
            _invFreq[i] = 1f / (float)Math.Pow(theta, exponent);
        }
        if (scaling is { RopeType: "llama3" })
        {
            ApplyLlama3Scaling(_invFreq, scaling);
        }
    }

    public int HeadDim { get; }

    /// <summary>The (scaled) inverse frequencies, one per rotated pair.</summary>
    public ReadOnlySpan<float> InverseFrequencies => _invFreq;

    private static void ApplyLlama3Scaling(float[] invFreq, RopeScaling s)
    {
        float factor = (float)s.Factor, low = (float)s.LowFreqFactor, high = (float)s.HighFreqFactor;
        float oldContext = s.OriginalMaxPositionEmbeddings;
        float lowFreqWavelen = oldContext / low, highFreqWavelen = oldContext / high;
        for (int i = 0; i < invFreq.Length; i++)
        {
            float f = invFreq[i];
            float wavelen = (float)(2 * Math.PI) / f;
            if (wavelen > lowFreqWavelen)
            {
                invFreq[i] = f / factor; // long wavelengths: interpolate fully
            }
            else if (wavelen >= highFreqWavelen)
            {
                // medium band: blend between interpolated and original frequency
                float smooth = (oldContext / wavelen - low) / (high - low);
                invFreq[i] = (1 - smooth) * f / factor + smooth * f;
            }
        }
    }

    /// <summary>
    /// cos/sin tables for the positions firstPosition .. firstPosition + tokens − 1 (one row per token), built once per
    /// forward call and shared by every layer.
    /// </summary>
    public RopeTables Tables(int firstPosition, int tokens)
    {
        var positions = new int[tokens];
        for (int t = 0; t < tokens; t++)
        {
            positions[t] = firstPosition + t;
        }
        return Tables(positions);
    }

    /// <summary>cos/sin tables for the given positions, one row per token (a draft tree repeats positions).</summary>
    public RopeTables Tables(ReadOnlySpan<int> positions)
    {
        int half = _invFreq.Length, tokens = positions.Length;
        var cos = new float[tokens * half];
        var sin = new float[tokens * half];
        for (int t = 0; t < tokens; t++)
        {
            float pos = positions[t];
            for (int i = 0; i < half; i++)
            {
                float angle = pos * _invFreq[i]; // float32 angle, as torch forms freqs
                cos[t * half + i] = (float)Math.Cos(angle);
                sin[t * half + i] = (float)Math.Sin(angle);
            }
        }
        return new RopeTables(cos, sin, tokens);
    }

    /// <summary>Rotates every head of <paramref name="x"/> ([tables.Tokens, heads, HeadDim], token-major) in place.</summary>
    public void Apply(Span<float> x, int heads, RopeTables tables) =>
        Rope.Apply(x, tables.Tokens, heads, HeadDim, tables.Cos, tables.Sin, firstPosition: 0);
}

/// <summary>cos/sin rows [Tokens, headDim/2], one per token.</summary>
internal sealed record RopeTables(float[] Cos, float[] Sin, int Tokens);
