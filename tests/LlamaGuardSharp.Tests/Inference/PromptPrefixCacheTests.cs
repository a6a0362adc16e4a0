using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Tests.Inference;

public class PromptPrefixCacheTests
{
    private static KvCache Filled(int[] ids)
    {
        var cache = new KvCache([true], capacity: 16, kvDim: 1);
        for (int i = 0; i < ids.Length; i++)
        {
            cache.Keys(0)[i] = ids[i];
            cache.Values(0)[i] = -ids[i];
        }
        cache.Advance(ids.Length);
        return cache;
    }

    [Fact]
    public void A_token_of_the_real_model_takes_256_KiB_of_cache()
    {
        // 32 self-attention layers (8 of the 40 are cross-attention) × keys and values × 8 KV heads × 128 × float32.
        Assert.Equal(256 * 1024, KvCache.BytesPerToken(MllamaPresets.LlamaGuard3_11BVision().Text));
    }

    [Fact]
    public void Keeps_one_prompt_per_template_and_matches_the_longest_prefix_of_the_same_image()
    {
        var cache = new PromptPrefixCache(tokensPerEntry: 6);
        int[] userA = [1, 2, 3, 10, 11, 12, 13], userB = [1, 2, 3, 10, 11, 99, 98], agentA = [1, 2, 4, 20, 21], userC = [1, 2, 3, 10, 50];
        Assert.Equal((-1, 0), cache.Match(userA, null));
        cache.Store(userA, null, Filled(userA));
        cache.Store(userB, null, Filled(userB));                 // a free slot: kept beside userA
        Assert.Equal(2, cache.Count);
        Assert.Equal((0, 6), cache.Match([1, 2, 3, 10, 11, 99, 7], null));
        cache.Store(agentA, null, Filled(agentA));               // another template: the least recently used (userA) goes
        Assert.Equal((1, 5), cache.Match(userA, null));          // from userB: the longest match wins
        Assert.Equal((0, 4), cache.Match(agentA, null));         // all but the last token
        Assert.Equal((-1, 0), cache.Match(userB, "some-image")); // another image: nothing
        Assert.Equal((-1, 0), cache.Match([7, 8], null));

        var target = new KvCache([true], capacity: 16, kvDim: 1);
        Assert.Null(cache.Find([7, 8], null));
        var reused = cache.Find(userA, null)!;
        Assert.Equal(5, reused.Length);
        reused.CopyTo(target);
        Assert.Equal(5, target.Length);
        Assert.Equal([1f, 2, 3, 10, 11], target.Keys(0)[..5]);
        Assert.Equal([-1f, -2, -3, -10, -11], target.Values(0)[..5]);

        // A user prompt replaces the user template's entry (it shares more with it than with the agent one), so the
        // alternation of prompt and response classifications keeps both templates.
        cache.Store(userC, null, Filled(userC));
        Assert.Equal((1, 4), cache.Match(agentA, null));
        Assert.Equal((0, 5), cache.Match([1, 2, 3, 10, 50, 60], null));
        Assert.Equal((0, 4), cache.Match(userB, null));          // userB's own entry is gone (replaced by userC)
        cache.Store([30, 31, 32], "image", Filled([30, 31, 32])); // no entry stands out: the least recently used goes
        Assert.Equal(2, cache.Count);
        Assert.Equal((1, 5), cache.Match([1, 2, 3, 10, 50, 60], null));
        Assert.Equal((1, 2), cache.Match(agentA, null));         // the agent entry is gone: only what it shares with userC
        Assert.Equal((0, 2), cache.Match([30, 31, 32], "image"));
    }
}
