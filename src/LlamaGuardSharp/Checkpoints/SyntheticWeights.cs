using System.Runtime.CompilerServices;

namespace LlamaGuardSharp.Checkpoints;

/// <summary>
/// Deterministic random weights for synthetic checkpoints. Counter-based: element i of a tensor is a SplitMix64 hash of
/// (tensor seed, i), so any range can be generated independently, in parallel, in any chunking, with identical output.
/// Scales keep activations finite and O(1) through the full depth: Linear N(0, 1/fan_in), lm_head N(0, 1/in),
/// norm scales 1 + N(0, 0.02²), biases N(0, 0.02²), gates ±U(0.1, 0.5), token and class embeddings N(0, 1),
/// positional tables N(0, 0.5²) with row 0 and the slots beyond an aspect ratio's tile count zero, as in the real tables.
/// The normal deviates are Irwin–Hall sums of four 16-bit uniforms (unit variance, bounded at ±3.46): fast and good enough.
/// </summary>
public static class SyntheticWeights
{
    /// <summary>The seed of one tensor: <paramref name="seed"/> mixed with a stable (FNV-1a) hash of the canonical name.</summary>
    public static ulong TensorSeed(ulong seed, string name)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in name)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return Mix(seed ^ Mix(hash));
    }

    /// <summary>Fills <paramref name="destination"/> with bf16 values of elements [start, start + length) of <paramref name="tensor"/>.</summary>
    public static void FillBf16(ExpectedTensor tensor, MllamaVisionConfig vision, ulong tensorSeed, long start, Span<ushort> destination)
    {
        var rule = RuleFor(tensor);
        for (int k = 0; k < destination.Length; k++)
        {
            destination[k] = ToBf16(Value(tensor, vision, rule, tensorSeed, start + k));
        }
    }

    /// <summary>The float32 value of element <paramref name="index"/> (before bf16 rounding).</summary>
    public static float Value(ExpectedTensor tensor, MllamaVisionConfig vision, ulong tensorSeed, long index) =>
        Value(tensor, vision, RuleFor(tensor), tensorSeed, index);

    private readonly record struct Rule(float Mean, float Std, bool IsGate);

    private static Rule RuleFor(ExpectedTensor t) => t.Role switch
    {
        MllamaTensorRole.LinearWeight or MllamaTensorRole.LmHead => new(0, (float)(1 / Math.Sqrt(Math.Max(1, t.FanIn))), false),
        MllamaTensorRole.Bias or MllamaTensorRole.NormBias => new(0, 0.02f, false),
        MllamaTensorRole.NormWeight => new(1, 0.02f, false),
        MllamaTensorRole.Gate => new(0, 0, true),
        MllamaTensorRole.TokenEmbedding or MllamaTensorRole.ClassEmbedding => new(0, 1, false),
        MllamaTensorRole.PositionalEmbedding or MllamaTensorRole.AspectRatioTable => new(0, 0.5f, false),
        _ => throw new ArgumentOutOfRangeException(nameof(t), t.Role, "unknown role"),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Value(ExpectedTensor tensor, MllamaVisionConfig vision, Rule rule, ulong tensorSeed, long index)
    {
        ulong bits = Mix(tensorSeed + (ulong)index * 0x9E3779B97F4A7C15UL);
        if (rule.IsGate)
        {
            float magnitude = 0.1f + 0.4f * ((bits >> 40) * (1f / (1 << 24)));
            return (bits & 1) == 0 ? magnitude : -magnitude;
        }
        if (tensor.Role == MllamaTensorRole.AspectRatioTable && IsUnusedSlot(tensor, vision, index))
        {
            return 0;
        }
        // Sum of four uniforms in [0, 1): mean 2, variance 1/3.
        float sum = ((bits & 0xFFFF) + ((bits >> 16) & 0xFFFF) + ((bits >> 32) & 0xFFFF) + (bits >> 48)) * (1f / 65536f);
        float normal = (sum - 2f) * 1.7320508f;
        return rule.Mean + rule.Std * normal;
    }

    /// <summary>Row 0 (no aspect ratio) and tile slots t ≥ tiles_high·tiles_wide of row a are zero in the HF tables.</summary>
    private static bool IsUnusedSlot(ExpectedTensor tensor, MllamaVisionConfig vision, long index)
    {
        long rowLength = tensor.Shape[1];
        long row = index / rowLength;
        if (row == 0)
        {
            return true;
        }
        long slot = index % rowLength / (rowLength / vision.MaxNumTiles);
        var (h, w) = vision.SupportedAspectRatios[(int)row - 1];
        return slot >= (long)h * w;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>float32 → bf16, round to nearest even (finite inputs only, which is all this class makes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort ToBf16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)(bits >> 16);
    }
}
