using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LlamaGuardSharp.Checkpoints;

/// <summary>
/// Deterministic random weights for synthetic checkpoints. Counter-based: element i of a tensor is a SplitMix64 hash of
/// (tensor seed, i), so any range can be generated independently, in parallel, in any chunking, with identical output.
/// Scales keep activations finite and O(1) through the full depth: Linear N(0, 1/fan_in), lm_head N(0, 1/in),
/// norm scales 1 + N(0, 0.02²), biases N(0, 0.02²), gates ±U(0.1, 0.5), token and class embeddings N(0, 1),
/// positional tables N(0, 0.5²) with row 0 and the slots beyond an aspect ratio's tile count zero, as in the real tables.
/// The normal deviates are Irwin–Hall sums of four 16-bit uniforms (unit variance, bounded at ±3.46): fast and good enough.
/// </summary>
internal static class SyntheticWeights
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
        int k = 0;
        if (!rule.IsGate && tensor.Role != MllamaTensorRole.AspectRatioTable)
        {
            // .NET reports Vector512 as unaccelerated on CPUs where 512-bit code throttles; 256-bit is then the fast path.
            if (Vector512.IsHardwareAccelerated)
            {
                k = FillNormalVector512(rule, tensorSeed, start, destination);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                k = FillNormalVector256(rule, tensorSeed, start, destination);
            }
        }
        for (; k < destination.Length; k++)
        {
            destination[k] = ToBf16(Value(tensor, vision, rule, tensorSeed, start + k));
        }
    }

    /// <summary>
    /// The plain normal case, 32 elements per step with AVX-512 (64-bit multiplies): the same integer hash and the same
    /// float operations in the same order as <see cref="Value(ExpectedTensor, MllamaVisionConfig, Rule, ulong, long)"/>,
    /// so the output is bit-identical. Returns how many elements it filled.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot loop: skip tier-0 code with unoptimised vectors
    internal static int FillNormalVector512(Rule rule, ulong tensorSeed, long start, Span<ushort> destination)
    {
        const ulong golden = 0x9E3779B97F4A7C15UL;
        int full = destination.Length / 32 * 32;
        var lane = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
        var mask16 = Vector512.Create(0xFFFFUL);
        var mean = Vector512.Create(rule.Mean);
        var scale = Vector512.Create(rule.Std * 1.7320508f);
        var inv = Vector512.Create(1f / 65536f);
        var two = Vector512.Create(2f);
        var round = Vector512.Create(0x7FFFu);
        var one = Vector512.Create(1u);
        ref ushort target = ref MemoryMarshal.GetReference(destination);
        for (int k = 0; k < full; k += 32)
        {
            ulong first = (ulong)(start + k);
            var sums0 = LaneSums(tensorSeed, (lane + Vector512.Create(first)) * golden, mask16);
            var sums1 = LaneSums(tensorSeed, (lane + Vector512.Create(first + 8)) * golden, mask16);
            var sums2 = LaneSums(tensorSeed, (lane + Vector512.Create(first + 16)) * golden, mask16);
            var sums3 = LaneSums(tensorSeed, (lane + Vector512.Create(first + 24)) * golden, mask16);
            var low = ToBf16Bits(Vector512.Narrow(sums0, sums1), mean, scale, inv, two, round, one);
            var high = ToBf16Bits(Vector512.Narrow(sums2, sums3), mean, scale, inv, two, round, one);
            Vector512.Narrow(low, high).StoreUnsafe(ref target, (nuint)k);
        }
        return full;
    }

    /// <summary>As <see cref="FillNormalVector512"/> with 256-bit vectors, 16 elements per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int FillNormalVector256(Rule rule, ulong tensorSeed, long start, Span<ushort> destination)
    {
        const ulong golden = 0x9E3779B97F4A7C15UL;
        int full = destination.Length / 16 * 16;
        var lane = Vector256.Create(0UL, 1, 2, 3);
        var mask16 = Vector256.Create(0xFFFFUL);
        var mean = Vector256.Create(rule.Mean);
        var scale = Vector256.Create(rule.Std * 1.7320508f);
        var inv = Vector256.Create(1f / 65536f);
        var two = Vector256.Create(2f);
        var round = Vector256.Create(0x7FFFu);
        var one = Vector256.Create(1u);
        ref ushort target = ref MemoryMarshal.GetReference(destination);
        for (int k = 0; k < full; k += 16)
        {
            ulong first = (ulong)(start + k);
            var sums0 = LaneSums(tensorSeed, (lane + Vector256.Create(first)) * golden, mask16);
            var sums1 = LaneSums(tensorSeed, (lane + Vector256.Create(first + 4)) * golden, mask16);
            var sums2 = LaneSums(tensorSeed, (lane + Vector256.Create(first + 8)) * golden, mask16);
            var sums3 = LaneSums(tensorSeed, (lane + Vector256.Create(first + 12)) * golden, mask16);
            var low = ToBf16Bits(Vector256.Narrow(sums0, sums1), mean, scale, inv, two, round, one);
            var high = ToBf16Bits(Vector256.Narrow(sums2, sums3), mean, scale, inv, two, round, one);
            Vector256.Narrow(low, high).StoreUnsafe(ref target, (nuint)k);
        }
        return full;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> LaneSums(ulong tensorSeed, Vector256<ulong> offsets, Vector256<ulong> mask16)
    {
        var z = Vector256.Create(tensorSeed) + offsets + Vector256.Create(0x9E3779B97F4A7C15UL);
        z = (z ^ Vector256.ShiftRightLogical(z, 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ Vector256.ShiftRightLogical(z, 27)) * 0x94D049BB133111EBUL;
        z ^= Vector256.ShiftRightLogical(z, 31);
        return (z & mask16) + (Vector256.ShiftRightLogical(z, 16) & mask16) + (Vector256.ShiftRightLogical(z, 32) & mask16) + Vector256.ShiftRightLogical(z, 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<uint> ToBf16Bits(Vector256<uint> sums, Vector256<float> mean, Vector256<float> scale, Vector256<float> inv,
        Vector256<float> two, Vector256<uint> round, Vector256<uint> one)
    {
        var values = mean + scale * (Vector256.ConvertToSingle(sums.AsInt32()) * inv - two);
        var bits = values.AsUInt32();
        bits += round + (Vector256.ShiftRightLogical(bits, 16) & one);
        return Vector256.ShiftRightLogical(bits, 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> LaneSums(ulong tensorSeed, Vector512<ulong> offsets, Vector512<ulong> mask16)
    {
        var z = Vector512.Create(tensorSeed) + offsets + Vector512.Create(0x9E3779B97F4A7C15UL);
        z = (z ^ Vector512.ShiftRightLogical(z, 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ Vector512.ShiftRightLogical(z, 27)) * 0x94D049BB133111EBUL;
        z ^= Vector512.ShiftRightLogical(z, 31);
        return (z & mask16) + (Vector512.ShiftRightLogical(z, 16) & mask16) + (Vector512.ShiftRightLogical(z, 32) & mask16) + Vector512.ShiftRightLogical(z, 48);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> ToBf16Bits(Vector512<uint> sums, Vector512<float> mean, Vector512<float> scale, Vector512<float> inv,
        Vector512<float> two, Vector512<uint> round, Vector512<uint> one)
    {
        var values = mean + scale * (Vector512.ConvertToSingle(sums.AsInt32()) * inv - two);
        var bits = values.AsUInt32();
        bits += round + (Vector512.ShiftRightLogical(bits, 16) & one);
        return Vector512.ShiftRightLogical(bits, 16);
    }

    /// <summary>The float32 value of element <paramref name="index"/> (before bf16 rounding).</summary>
    public static float Value(ExpectedTensor tensor, MllamaVisionConfig vision, ulong tensorSeed, long index) =>
        Value(tensor, vision, RuleFor(tensor), tensorSeed, index);

    internal readonly record struct Rule(float Mean, float Std, bool IsGate);

    internal static Rule RuleFor(ExpectedTensor t) => t.Role switch
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
        // Sum of four uniforms in [0, 1): mean 2, variance 1/3. (Operation order shared with the vector path.)
        int sum = (int)(bits & 0xFFFF) + (int)((bits >> 16) & 0xFFFF) + (int)((bits >> 32) & 0xFFFF) + (int)(bits >> 48);
        return rule.Mean + rule.Std * 1.7320508f * (sum * (1f / 65536f) - 2f);
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
