using System.Buffers;
using System.Runtime.CompilerServices;

namespace LlamaGuardSharp.Tokenization;

/// <summary>Growable list of token ids backed by a pooled array; call <see cref="Dispose"/> to return it.</summary>
internal struct TokenIdBuffer : IDisposable
{
    private int[] _items;
    private int _count;

    public TokenIdBuffer(int initialCapacity)
    {
        _items = ArrayPool<int>.Shared.Rent(Math.Max(16, initialCapacity));
        _count = 0;
    }

    public readonly int Count => _count;

    public readonly ReadOnlySpan<int> Span => _items.AsSpan(0, _count);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(int id)
    {
        if (_count == _items.Length)
        {
            Grow(1);
        }
        _items[_count++] = id;
    }

    public void AddRange(ReadOnlySpan<int> ids)
    {
        if (_count + ids.Length > _items.Length)
        {
            Grow(ids.Length);
        }
        ids.CopyTo(_items.AsSpan(_count));
        _count += ids.Length;
    }

    public readonly int[] ToArray() => _items.AsSpan(0, _count).ToArray();

    private void Grow(int extra)
    {
        int[] bigger = ArrayPool<int>.Shared.Rent(Math.Max(_items.Length * 2, _count + extra));
        _items.AsSpan(0, _count).CopyTo(bigger);
        ArrayPool<int>.Shared.Return(_items);
        _items = bigger;
    }

    public void Dispose()
    {
        if (_items is not null)
        {
            ArrayPool<int>.Shared.Return(_items);
            _items = null!;
        }
    }
}
