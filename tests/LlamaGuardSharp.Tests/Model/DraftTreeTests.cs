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
        int[] forced = [Llama3TokenIds.Unsafe, 198, 50];
        var draft = VerdictDraft.Build([Llama3TokenIds.DoubleNewline], forced, Llama3TokenIds.Safe);
        Assert.Equal([Llama3TokenIds.DoubleNewline, Llama3TokenIds.Unsafe, 198, 50, Llama3TokenIds.Safe], draft.Tree.Tokens);
        Assert.Equal([-1, 0, 1, 2, 0], draft.Tree.Parents);
        Assert.Equal(3, draft.LastForced);
        Assert.Equal([Llama3TokenIds.DoubleNewline], draft.Lead);

        var meta = VerdictDraft.Build([], forced, Llama3TokenIds.Safe);
        Assert.Equal([-1, 0, 1, -1], meta.Tree.Parents);
        Assert.Equal(2, meta.LastForced);

        var noCategories = VerdictDraft.Build([Llama3TokenIds.DoubleNewline], [], Llama3TokenIds.Safe);
        Assert.Equal([Llama3TokenIds.DoubleNewline, Llama3TokenIds.Safe], noCategories.Tree.Tokens);
        Assert.True(noCategories.Tree.IsChain);
        Assert.Equal(-1, noCategories.LastForced);
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
