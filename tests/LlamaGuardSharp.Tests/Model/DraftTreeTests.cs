using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Tests.Model;

public class DraftTreeTests
{
    [Fact]
    public void Depths_children_and_chains()
    {
        // "\n\n" → ("unsafe" → "\n" → "S"), ("safe")
        var tree = new DraftTree([271, 39257, 198, 50, 19193], [-1, 0, 1, 2, 0]);
        Assert.Equal([0, 1, 2, 3, 1], Enumerable.Range(0, tree.Count).Select(tree.Depth));
        Assert.Equal(0, tree.Child(-1, 271));
        Assert.Equal(4, tree.Child(0, 19193));
        Assert.Equal(1, tree.Child(0, 39257));
        Assert.Equal(-1, tree.Child(1, 19193)); // "safe" is not a child of "unsafe"
        Assert.Equal(-1, tree.Child(-1, 39257));
        Assert.False(tree.IsChain);
        Assert.True(DraftTree.Chain([5, 6, 7]).IsChain);
        Assert.Equal([0, 1, 2], Enumerable.Range(0, 3).Select(DraftTree.Chain([5, 6, 7]).Depth));
        Assert.Equal(0, DraftTree.Empty.Count);
    }

    [Fact]
    public void Bad_trees_are_rejected_with_the_reason()
    {
        Assert.Contains("parents", Assert.Throws<ArgumentException>(() => new DraftTree([1, 2], [-1])).Message);
        Assert.Contains("parent 1", Assert.Throws<ArgumentException>(() => new DraftTree([1, 2], [-1, 1])).Message); // not earlier
        Assert.Contains("parent -2", Assert.Throws<ArgumentException>(() => new DraftTree([1], [-2])).Message);
        Assert.Contains("same token", Assert.Throws<ArgumentException>(() => new DraftTree([1, 2, 2], [-1, 0, 0])).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => new DraftTree([-3], [-1])).Message);
        Assert.Contains("at most 64", Assert.Throws<ArgumentException>(() => DraftTree.Chain(new int[65])).Message);
    }

    [Fact]
    public void The_classifier_draft_has_safe_beside_unsafe_S()
    {
        int[] forced = [SpecialTokens.Unsafe, 198, 50];
        var tree = GuardModel.VerdictDraft([SpecialTokens.DoubleNewline], forced, out int lastForced);
        Assert.Equal([SpecialTokens.DoubleNewline, SpecialTokens.Unsafe, 198, 50, SpecialTokens.Safe], tree.Tokens);
        Assert.Equal([-1, 0, 1, 2, 0], tree.Parents);
        Assert.Equal(3, lastForced);

        var meta = GuardModel.VerdictDraft([], forced, out lastForced);
        Assert.Equal([-1, 0, 1, -1], meta.Parents);
        Assert.Equal(2, lastForced);

        var noCategories = GuardModel.VerdictDraft([SpecialTokens.DoubleNewline], [], out lastForced);
        Assert.Equal([SpecialTokens.DoubleNewline, SpecialTokens.Safe], noCategories.Tokens);
        Assert.True(noCategories.IsChain);
        Assert.Equal(-1, lastForced);
    }

    [Fact]
    public void Cache_compaction_moves_kept_rows_down_and_rejects_bad_rows()
    {
        var cache = new KvCache([true, false], capacity: 8, kvDim: 2);
        var keys = cache.Keys(0);
        for (int i = 0; i < 12; i++)
        {
            keys[i] = i;
        }
        cache.Advance(6);
        Assert.Throws<ArgumentException>(() => cache.Compact(2, [1, 1]));  // not ascending
        Assert.Throws<ArgumentException>(() => cache.Compact(2, [4]));     // past the filled rows
        cache.Compact(2, [1, 3]); // keep rows 3 and 5 as rows 2 and 3
        Assert.Equal(4, cache.Length);
        Assert.Equal([0f, 1, 2, 3, 6, 7, 10, 11], keys[..8]);
    }
}

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
    public void Keeps_one_prompt_per_template_and_matches_the_longest_prefix_of_the_same_image()
    {
        var cache = new LlamaGuardSharp.Inference.PromptPrefixCache(tokensPerEntry: 6);
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
        cache.CopyTo(1, target, 5);
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
