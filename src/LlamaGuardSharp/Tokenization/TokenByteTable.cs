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
    private readonly int[] _slots;   // id + 1, 0 = empty
    private readonly uint[] _slotHashes;
    private readonly int _mask;
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
        _slots = new int[capacity];
        _slotHashes = new uint[capacity];
        _mask = capacity - 1;
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
            uint hash = Hash(bytes);
            int slot = (int)hash & _mask;
            while (_slots[slot] != 0)
            {
                slot = (slot + 1) & _mask;
            }
            _slots[slot] = id + 1;
            _slotHashes[slot] = hash;
            if (bytes.Length == 1)
            {
                _singleByteIds[bytes[0]] = id;
            }
        }
    }

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
        uint hash = Hash(bytes);
        int slot = (int)hash & _mask;
        while (true)
        {
            int entry = _slots[slot];
            if (entry == 0)
            {
                return -1;
            }
            if (_slotHashes[slot] == hash && GetBytes(entry - 1).SequenceEqual(bytes))
            {
                return entry - 1;
            }
            slot = (slot + 1) & _mask;
        }
    }

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
