using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Tests.Inference;

public sealed class EncodedImageCacheTests
{
    private static EncodedImages Entry(int tiles, ActivationPool? pool = null) =>
        new(new CrossAttentionMemory([new float[4]], [new float[4]], 1, tiles, 1, pool), [tiles], TimeSpan.Zero);

    [Fact]
    public void Keeps_the_most_recently_used_entries_and_drops_the_least_recently_used()
    {
        var cache = new EncodedImageCache(2);
        EncodedImages a = Entry(1), b = Entry(2), c = Entry(3);
        cache.Add("a", a);
        cache.Add("b", b);
        Assert.True(cache.TryGet("a", out var found)); // "a" is now the most recent
        Assert.Same(a, found);
        Assert.True(cache.MakeRoom());                // full: drops "b", the least recently used
        Assert.False(cache.TryGet("b", out _));
        cache.Add("c", c);
        Assert.Equal(2, cache.Count);
        Assert.True(cache.TryGet("a", out found));
        Assert.Same(a, found);
        Assert.True(cache.TryGet("c", out found));
        Assert.Same(c, found);
        cache.Clear();
        Assert.Equal(0, cache.Count);
        Assert.False(cache.MakeRoom());
    }

    [Fact]
    public void Dropped_and_cleared_entries_hand_their_memory_back_to_the_pool()
    {
        var pool = new ActivationPool(1 << 20, minPooledLength: 1);
        var cache = new EncodedImageCache(1);
        EncodedImages a = Entry(1, pool), b = Entry(2, pool);
        Assert.True(cache.Add("a", a));
        Assert.True(cache.Add("b", b)); // full: "a" is dropped and released
        Assert.Throws<ObjectDisposedException>(() => a.Memory.KeysOf(0));
        Assert.Equal(2 * 4 * sizeof(float), pool.KeptBytes);
        Assert.Equal(4, b.Memory.KeysOf(0).Length);
        cache.Clear();
        Assert.Throws<ObjectDisposedException>(() => b.Memory.ValuesOf(0));
        Assert.Equal(4 * 4 * sizeof(float), pool.KeptBytes);
    }

    [Fact]
    public void A_cache_of_size_zero_keeps_nothing()
    {
        var cache = new EncodedImageCache(0);
        Assert.False(cache.Add("a", Entry(1))); // the caller keeps ownership
        Assert.Equal(0, cache.Count);
        Assert.False(cache.TryGet("a", out _));
        Assert.False(cache.MakeRoom());
    }

    [Fact]
    public void Keys_are_the_sha256_of_the_bytes()
    {
        Assert.Equal("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", EncodedImageCache.KeyOf("abc"u8));
        Assert.NotEqual(EncodedImageCache.KeyOf([1, 2, 3]), EncodedImageCache.KeyOf([1, 2, 4]));
    }
}
