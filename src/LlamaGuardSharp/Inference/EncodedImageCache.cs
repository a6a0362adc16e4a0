using System.Security.Cryptography;
using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// The last few images a <see cref="GuardModel"/> encoded (vision tower, projector and cross-attention K/V), keyed by
/// the SHA-256 of the image file's bytes, so that classifying the prompt and then the response of one exchange runs the
/// vision encoder once (≈ 80 s of a ≈ 110 s classification on a 2-core machine). Least recently used first out; the
/// cache owns its entries and hands a dropped entry's memory back to the model's pool (the next encoding reuses it).
/// Not thread-safe: the model calls it under its request gate.
/// </summary>
internal sealed class EncodedImageCache(int capacity)
{
    private readonly LinkedList<(string Key, EncodedImages Images)> _entries = new();

    public int Capacity { get; } = capacity;

    public int Count => _entries.Count;

    public static string KeyOf(ReadOnlySpan<byte> encodedImage) => Convert.ToHexString(SHA256.HashData(encodedImage));

    public bool TryGet(string key, out EncodedImages images)
    {
        for (var node = _entries.First; node is not null; node = node.Next)
        {
            if (node.Value.Key == key)
            {
                _entries.Remove(node);
                _entries.AddFirst(node);
                images = node.Value.Images;
                return true;
            }
        }
        images = null!;
        return false;
    }

    /// <summary>Drops the least recently used entry if the cache is full, before a new image is encoded (so that a full
    /// cache and the new encoding's activations are never in memory together). Returns whether it dropped one.</summary>
    public bool MakeRoom()
    {
        bool dropped = false;
        while (Capacity > 0 && _entries.Count >= Capacity)
        {
            _entries.Last!.Value.Images.Release();
            _entries.RemoveLast();
            dropped = true;
        }
        return dropped;
    }

    /// <summary>Keeps <paramref name="images"/>, which the cache then owns; returns false (the caller keeps ownership)
    /// when the cache is off.</summary>
    public bool Add(string key, EncodedImages images)
    {
        if (Capacity == 0)
        {
            return false;
        }
        MakeRoom();
        _entries.AddFirst((key, images));
        return true;
    }

    /// <summary>Drops every entry, handing their memory back.</summary>
    public void Clear()
    {
        foreach (var (_, images) in _entries)
        {
            images.Release();
        }
        _entries.Clear();
    }
}
