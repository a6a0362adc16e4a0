using LlamaGuardSharp.Checkpoints;

namespace LlamaGuardSharp.Model;

/// <summary>
/// Rotary position embedding with llama3 frequency scaling, rotate-half form (HF-layout q/k weights, spec §6.4).
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
    /// Rotates every head of <paramref name="x"/> ([tokens, heads, HeadDim], token-major) in place; token t sits at
    /// absolute position <paramref name="firstPosition"/> + t.
    /// </summary>
    public void Apply(Span<float> x, int tokens, int heads, int firstPosition)
    {
        int half = HeadDim / 2;
        Span<float> cos = stackalloc float[half];
        Span<float> sin = stackalloc float[half];
        for (int t = 0; t < tokens; t++)
        {
            float pos = firstPosition + t;
            for (int i = 0; i < half; i++)
            {
                float angle = pos * _invFreq[i];
                cos[i] = MathF.Cos(angle);
                sin[i] = MathF.Sin(angle);
            }
            for (int h = 0; h < heads; h++)
            {
                var v = x.Slice((t * heads + h) * HeadDim, HeadDim);
                for (int i = 0; i < half; i++)
                {
                    float a = v[i], b = v[i + half];
                    v[i] = a * cos[i] - b * sin[i];
                    v[i + half] = b * cos[i] + a * sin[i];
                }
            }
        }
    }
}
