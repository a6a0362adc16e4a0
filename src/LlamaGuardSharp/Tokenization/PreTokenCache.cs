using System.Runtime.CompilerServices;

namespace LlamaGuardSharp.Tokenization;

/// <summary>
/// A small direct-mapped cache from pre-token text to its BPE ids, owned by one tokenizer instance. Entries are immutable and
/// published with a single reference write, so concurrent <c>Encode</c> calls are safe without locks (a race only loses an entry).
/// Bounded: a fixed number of slots, each replaced on collision.
/// </summary>
internal sealed class PreTokenCache
{
    /// <summary>Pre-tokens longer than this are not cached (they are rare and would evict common words).</summary>
    public const int MaxKeyLength = 24;

    private readonly Entry?[] _slots;
    private readonly int _mask;

    public PreTokenCache(int slotCount)
    {
        _slots = new Entry?[(int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)slotCount)];
        _mask = _slots.Length - 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int[]? TryGet(ReadOnlySpan<char> key, out int slot)
    {
        slot = string.GetHashCode(key) & _mask;
        Entry? entry = Volatile.Read(ref _slots[slot]);
        return entry is not null && key.SequenceEqual(entry.Key) ? entry.Ids : null;
    }

    public void Set(int slot, ReadOnlySpan<char> key, int[] ids) => Volatile.Write(ref _slots[slot], new Entry(key.ToString(), ids));

    private sealed record Entry(string Key, int[] Ids);
}
