namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood 2014): a tiny seeded generator whose sequence is fixed by its definition, so a
/// bootstrap with the same seed gives the same intervals on every platform and .NET version (System.Random promises
/// no such thing). Not thread-safe; one per computation.
/// </summary>
internal sealed class SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong Next()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, n): the high 64 bits of a 128-bit product (bias below n / 2⁶⁴).</summary>
    public int NextIndex(int n) => (int)(((UInt128)Next() * (ulong)n) >> 64);
}
