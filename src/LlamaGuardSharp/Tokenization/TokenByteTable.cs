using System.Runtime.CompilerServices;

namespace LlamaGuardSharp.Tokenization;

/// <summary>
/// The byte string of every ordinary (BPE) token, stored in one blob, with an open-addressing hash index from byte string
/// to id so that a pre-token can be looked up from a span without allocating.
/// </summary>
internal sealed class TokenByteTable
{
    private readonly byte[] _blob;
    private readonly int[] _offsets; // _offsets[id].._offsets[id + 1]; length -1 marks an unused id via _present
    private readonly bool[] _present;
    // Tokens of up to 7 bytes (most words) are found by their packed bytes alone: one memory access per probe.
    private readonly ShortSlot[] _shortSlots;
    private readonly int _shortShift;
    // Longer tokens: hash + id per slot, then a byte comparison against the blob.
    private readonly LongSlot[] _longSlots;
    private readonly int _longMask;
    private readonly int[] _singleByteIds = new int[256];

    /// <param name="tokens">Token bytes indexed by id; null entries are ids without an ordinary token.</param>
    /// <param name="duplicate">Called with the id of a byte string that occurs twice (the caller turns it into a format error).</param>
    public TokenByteTable(IReadOnlyList<byte[]?> tokens, Action<int, int> duplicate)
    {
        Count = tokens.Count;
        _present = new bool[Count];
        _offsets = new int[Count + 1];
        long total = 0;
        for (int id = 0; id < Count; id++)
        {
            total += tokens[id]?.Length ?? 0;
        }
        _blob = new byte[total];
        int pos = 0;
        int ordinaryCount = 0;
        for (int id = 0; id < Count; id++)
        {
            _offsets[id] = pos;
            if (tokens[id] is { } bytes)
            {
                bytes.CopyTo(_blob, pos);
                pos += bytes.Length;
                _present[id] = true;
                ordinaryCount++;
            }
        }
        _offsets[Count] = pos;

        int capacity = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(16, ordinaryCount * 2));
        _shortSlots = new ShortSlot[capacity];
        _shortShift = 64 - System.Numerics.BitOperations.Log2((uint)capacity);
        _longSlots = new LongSlot[capacity];
        _longMask = capacity - 1;
        _singleByteIds.AsSpan().Fill(-1);
        for (int id = 0; id < Count; id++)
        {
            if (!_present[id])
            {
                continue;
            }
            ReadOnlySpan<byte> bytes = GetBytes(id);
            int existing = Find(bytes);
            if (existing >= 0)
            {
                duplicate(existing, id);
                continue;
            }
            if (bytes.Length <= MaxShortLength)
            {
                ulong key = PackShort(bytes);
                int slot = ShortSlotOf(key);
                while (_shortSlots[slot].Key != 0)
                {
                    slot = (slot + 1) & _longMask;
                }
                _shortSlots[slot] = new ShortSlot(key, id);
            }
            else
            {
                uint hash = Hash(bytes);
                int slot = (int)hash & _longMask;
                while (_longSlots[slot].IdPlusOne != 0)
                {
                    slot = (slot + 1) & _longMask;
                }
                _longSlots[slot] = new LongSlot(hash, id + 1);
            }
            if (bytes.Length == 1)
            {
                _singleByteIds[bytes[0]] = id;
            }
        }
    }

    private const int MaxShortLength = 7;

    private readonly record struct ShortSlot(ulong Key, int Id);

    private readonly record struct LongSlot(uint Hash, int IdPlusOne);

    /// <summary>Number of ids covered (including ids without an ordinary token).</summary>
    public int Count { get; }

    /// <summary>Id of the single-byte token for each byte value, or -1 when a byte has no token.</summary>
    public ReadOnlySpan<int> SingleByteIds => _singleByteIds;

    public bool Contains(int id) => (uint)id < (uint)Count && _present[id];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ReadOnlySpan<byte> GetBytes(int id) => _blob.AsSpan(_offsets[id], _offsets[id + 1] - _offsets[id]);

    /// <summary>The id whose bytes equal <paramref name="bytes"/>, or -1.</summary>
    public int Find(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length <= MaxShortLength)
        {
            if (bytes.IsEmpty)
            {
                return -1;
            }
            ulong key = PackShort(bytes);
            int slot = ShortSlotOf(key);
            while (true)
            {
                ShortSlot entry = _shortSlots[slot];
                if (entry.Key == key)
                {
                    return entry.Id;
                }
                if (entry.Key == 0)
                {
                    return -1;
                }
                slot = (slot + 1) & _longMask;
            }
        }
        uint hash = Hash(bytes);
        int longSlot = (int)hash & _longMask;
        while (true)
        {
            LongSlot entry = _longSlots[longSlot];
            if (entry.IdPlusOne == 0)
            {
                return -1;
            }
            if (entry.Hash == hash && GetBytes(entry.IdPlusOne - 1).SequenceEqual(bytes))
            {
                return entry.IdPlusOne - 1;
            }
            longSlot = (longSlot + 1) & _longMask;
        }
    }

    /// <summary>Bytes little-endian in the low 56 bits, length in the top byte (so the key of a real token is never 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong PackShort(ReadOnlySpan<byte> bytes)
    {
        ulong key = (ulong)bytes.Length << 56;
        for (int i = 0; i < bytes.Length; i++)
        {
            key |= (ulong)bytes[i] << (8 * i);
        }
        return key;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int ShortSlotOf(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> _shortShift);

    // FNV-1a with a final avalanche; token strings are short, and this must be deterministic and allocation-free.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(ReadOnlySpan<byte> bytes)
    {
        uint h = 2166136261;
        foreach (byte b in bytes)
        {
            h = (h ^ b) * 16777619;
        }
        h ^= h >> 15;
        h *= 0x2C1B3C6D;
        h ^= h >> 12;
        return h;
    }
}
