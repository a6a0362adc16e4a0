using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Tests.Inference;

public sealed class EncodedImageCacheTests
{
    private static EncodedImages Entry(int tiles) => new(null!, [tiles], TimeSpan.Zero); // the cache never reads the memory

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
    public void A_cache_of_size_zero_keeps_nothing()
    {
        var cache = new EncodedImageCache(0);
        cache.Add("a", Entry(1));
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
