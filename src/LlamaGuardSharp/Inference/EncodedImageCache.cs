using System.Security.Cryptography;
using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// The last few images a <see cref="GuardModel"/> encoded (vision tower, projector and cross-attention K/V), keyed by
/// the SHA-256 of the image file's bytes, so that classifying the prompt and then the response of one exchange runs the
/// vision encoder once (≈ 80 s of a ≈ 110 s classification on a 2-core machine). Least recently used first out. Not
/// thread-safe: the model calls it under its request gate.
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
            _entries.RemoveLast();
            dropped = true;
        }
        return dropped;
    }

    public void Add(string key, EncodedImages images)
    {
        if (Capacity == 0)
        {
            return;
        }
        MakeRoom();
        _entries.AddFirst((key, images));
    }

    public void Clear() => _entries.Clear();
}
