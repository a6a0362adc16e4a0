namespace LlamaGuardSharp.Hub.Tests;

/// <summary>--model DIR|REPO_ID resolution, offline.</summary>
public sealed class ModelLocatorTests
{
    private const string Commit = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";

    private static string MakeCachedRepo(string cache, bool withConfig = true)
    {
        string repo = Path.Combine(cache, "models--org--Model");
        string snapshot = Path.Combine(repo, "snapshots", Commit);
        Directory.CreateDirectory(snapshot);
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        File.WriteAllText(Path.Combine(repo, "refs", "main"), Commit);
        if (withConfig)
        {
            File.WriteAllText(Path.Combine(snapshot, "config.json"), "{}");
        }
        return snapshot;
    }

    [Fact]
    public void An_existing_path_stays_that_path()
    {
        using var temp = new TempFolder();
        Assert.Equal(temp.Path, ModelLocator.Resolve(temp.Path, cacheDirectory: "/nonexistent"));
        var e = Assert.Throws<ArgumentException>(() => ModelLocator.Resolve(temp.Path, "main"));
        Assert.Contains("revision", e.Message);
    }

    [Fact]
    public void A_repo_id_resolves_through_refs_to_its_snapshot()
    {
        using var temp = new TempFolder();
        string snapshot = MakeCachedRepo(temp.Path);
        Assert.Equal(snapshot, ModelLocator.Resolve("org/Model", cacheDirectory: temp.Path));
        Assert.Equal(snapshot, ModelLocator.Resolve("org/Model", Commit, temp.Path));
    }

    [Fact]
    public void A_missing_repo_id_suggests_llamaguard_download()
    {
        using var temp = new TempFolder();
        var e = Assert.Throws<ModelNotCachedException>(() => ModelLocator.Resolve("org/Other", cacheDirectory: temp.Path));
        Assert.Contains("llamaguard download org/Other", e.Message);
        Assert.Contains(temp.Path, e.Message);
        Assert.Contains("--download-if-missing", e.Message);
        Assert.IsAssignableFrom<IOException>(e);
    }

    [Fact]
    public void A_missing_revision_and_an_incomplete_snapshot_are_named()
    {
        using var temp = new TempFolder();
        MakeCachedRepo(temp.Path, withConfig: false);
        var incomplete = Assert.Throws<ModelNotCachedException>(() => ModelLocator.Resolve("org/Model", cacheDirectory: temp.Path));
        Assert.Contains("incomplete", incomplete.Message);
        var revision = Assert.Throws<ModelNotCachedException>(() => ModelLocator.Resolve("org/Model", "v2", temp.Path));
        Assert.Contains("'v2'", revision.Message);
        Assert.Contains("--revision v2", revision.Message);
    }

    [Theory]
    [InlineData("meta-llama/Llama-Guard-3-11B-Vision", true)]
    [InlineData("org/name.v2_x", true)]
    [InlineData("a/b/c", false)]
    [InlineData("/abs/path", false)]
    [InlineData("org--x/name", false)]
    [InlineData("org/na..me", false)]
    [InlineData("org/-name", false)]
    [InlineData("org/na me", false)]
    [InlineData("justname", false)]
    public void Repo_ids_follow_the_hub_rules(string text, bool valid)
    {
        Assert.Equal(valid, RepoId.TryParse(text, out var id));
        if (valid)
        {
            Assert.Equal(text, id!.ToString());
            Assert.Equal("models--" + text.Replace("/", "--"), id.CacheFolderName);
        }
    }

    [Fact]
    public void A_value_that_is_neither_a_path_nor_a_repo_id_is_left_for_the_loader_to_report()
    {
        Assert.Equal("/no/such/model/folder", ModelLocator.Resolve("/no/such/model/folder"));
    }
}
