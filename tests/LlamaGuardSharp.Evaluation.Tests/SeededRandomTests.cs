using LlamaGuardSharp.Evaluation;

namespace LlamaGuardSharp.Evaluation.Tests;

public class SeededRandomTests
{
    [Fact]
    public void SplitMix64_follows_the_published_sequence()
    {
        // The first outputs of SplitMix64 from state 0, as published with the algorithm (Vigna's splitmix64.c).
        var random = new SplitMix64(0);
        Assert.Equal(0xE220A8397B1DCDAFUL, random.Next());
        Assert.Equal(0x6E789E6AA1B965F4UL, random.Next());
        Assert.Equal(0x06C45D188009454FUL, random.Next());
    }

    [Fact]
    public void Shuffle_is_a_permutation_fixed_by_the_seed()
    {
        var items = Enumerable.Range(0, 50).ToArray();
        var a = SeededShuffle.Shuffle(items, 7);
        Assert.Equal(a, SeededShuffle.Shuffle(items, 7));
        Assert.NotEqual(a, SeededShuffle.Shuffle(items, 8));
        Assert.NotEqual(items, a);
        Assert.Equal(items, a.Order());
    }
}
