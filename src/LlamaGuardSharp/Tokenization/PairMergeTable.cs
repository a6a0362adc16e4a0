using System.Runtime.CompilerServices;

namespace LlamaGuardSharp.Tokenization;

/// <summary>
/// Merge rules of the byte-level BPE: (left id, right id) → (priority, merged id), in an open-addressing hash table keyed on the
/// packed id pair so that the merge loop never builds strings. Lower priority merges first.
/// </summary>
internal sealed class PairMergeTable
{
    private readonly ulong[] _keys;   // ((ulong)(left + 1) << 32) | (uint)right; 0 = empty
    private readonly ulong[] _values; // ((ulong)priority << 32) | (uint)merged
    private readonly int _mask;
    private readonly int _shift;

    public PairMergeTable(int expectedCount)
    {
        int capacity = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, expectedCount * 2));
        _keys = new ulong[capacity];
        _values = new ulong[capacity];
        _mask = capacity - 1;
        _shift = 64 - System.Numerics.BitOperations.Log2((uint)capacity);
    }

    public int Count { get; private set; }

    /// <summary>Adds a rule; returns false (and keeps the existing one) when the pair already has a rule.</summary>
    public bool TryAdd(int left, int right, int priority, int merged)
    {
        if (Count * 2 >= _keys.Length)
        {
            throw new InvalidOperationException("PairMergeTable capacity exceeded.");
        }
        ulong key = Key(left, right);
        int slot = Slot(key);
        while (_keys[slot] != 0)
        {
            if (_keys[slot] == key)
            {
                return false;
            }
            slot = (slot + 1) & _mask;
        }
        _keys[slot] = key;
        _values[slot] = ((ulong)(uint)priority << 32) | (uint)merged;
        Count++;
        return true;
    }

    /// <summary>Priority of merging (left, right), or <see cref="int.MaxValue"/> when the pair never merges.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int GetPriority(int left, int right, out int merged)
    {
        ulong key = Key(left, right);
        int slot = Slot(key);
        while (true)
        {
            ulong k = _keys[slot];
            if (k == key)
            {
                ulong v = _values[slot];
                merged = (int)(uint)v;
                return (int)(v >> 32);
            }
            if (k == 0)
            {
                merged = -1;
                return int.MaxValue;
            }
            slot = (slot + 1) & _mask;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Key(int left, int right) => ((ulong)(uint)(left + 1) << 32) | (uint)right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Slot(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> _shift) & _mask;
}
