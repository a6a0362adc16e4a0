using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// The keys/values of a prompt's first <see cref="Length"/> tokens, taken from a prompt run earlier with the same tokens
/// and images (<see cref="PromptPrefixCache.Find"/>), for <see cref="GenerationSession.Prefill"/> to copy instead of
/// recomputing. Valid until the cache entry it comes from is replaced (the model uses it right away, under its gate).
/// </summary>
internal sealed class ReusedPrefix
{
    private readonly KvCache _source;

    internal ReusedPrefix(KvCache source, int length)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, source.Length);
        _source = source;
        Length = length;
    }

    /// <summary>How many leading prompt tokens it covers.</summary>
    public int Length { get; }

    /// <summary>Copies the rows into <paramref name="target"/>, an empty session cache.</summary>
    public void CopyTo(KvCache target) => target.CopyFrom(_source, Length);
}
