namespace LlamaGuardSharp.Hub.Tests;

/// <summary>Python fnmatch.fnmatchcase semantics, as huggingface_hub's filter_repo_objects applies them.</summary>
public sealed class FilePatternsTests
{
    [Theory]
    [InlineData("*.json", "config.json", true)]
    [InlineData("*.json", "original/params.json", true)] // * crosses /
    [InlineData("*.json", "config.JSON", false)]         // case-sensitive
    [InlineData("model*.safetensors", "model-00001-of-00005.safetensors", true)]
    [InlineData("model*.safetensors", "model.safetensors.index.json", false)]
    [InlineData("original/", "original/consolidated.pth", true)]
    [InlineData("original/", "originally.json", false)]
    [InlineData("tokenizer.?son", "tokenizer.json", true)]
    [InlineData("shard[0-9].bin", "shard7.bin", true)]
    [InlineData("shard[!0-9].bin", "shard7.bin", false)]
    [InlineData("shard[!0-9].bin", "shardx.bin", true)]
    [InlineData("a[b", "a[b", true)]                    // an unclosed [ is literal
    [InlineData("a.b", "axb", false)]                   // . is literal
    public void Globs_match_like_fnmatchcase(string pattern, string path, bool matches)
    {
        Assert.Equal(matches, new FilePatterns([pattern], []).Matches(path));
    }

    [Fact]
    public void The_default_takes_the_runtime_files_and_never_original()
    {
        var files = FilePatterns.Default;
        foreach (string path in new[] { "config.json", "generation_config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json",
                     "special_tokens_map.json", "chat_template.json", "model.safetensors.index.json", "model-00001-of-00005.safetensors", "tokenizer.model" })
        {
            Assert.True(files.Matches(path), path);
        }
        foreach (string path in new[] { "original/consolidated.pth", "original/params.json", "original/tokenizer.model", "README.md", "LICENSE", ".gitattributes", "USE_POLICY.md" })
        {
            Assert.False(files.Matches(path), path);
        }
    }
}
