namespace LlamaGuardSharp.Hub.Tests;

/// <summary>The cache paths refuse names a malicious or broken server could use to write outside the cache.</summary>
public sealed class HubCacheTests
{
    private static readonly HubCache Cache = new("/tmp/cache", RepoId.Parse("org/name"));

    [Theory]
    [InlineData("../escape.json")]
    [InlineData("a/../../escape.json")]
    [InlineData("/etc/passwd")]
    [InlineData("a\\b.json")]
    [InlineData("a//b.json")]
    public void Repository_paths_that_leave_the_snapshot_are_refused(string path)
    {
        Assert.Throws<ArgumentException>(() => Cache.SnapshotFile(new string('a', 40), path));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/b")]
    [InlineData("..")]
    public void Etags_that_are_not_plain_names_are_refused(string etag)
    {
        Assert.Throws<ArgumentException>(() => Cache.BlobPath(etag));
    }

    [Fact]
    public void Commits_must_be_full_shas_and_refs_may_have_folders()
    {
        Assert.Throws<ArgumentException>(() => Cache.SnapshotFolder("main"));
        Assert.Throws<ArgumentException>(() => Cache.SnapshotFolder(new string('A', 40))); // the Hub's shas are lower-case
        Assert.Equal(Path.Combine("/tmp/cache", "models--org--name", "refs", "refs", "pr", "1"), Cache.RefPath("refs/pr/1"));
    }

    [Fact]
    public void WriteRef_writes_the_sha_alone_and_not_for_a_commit_revision()
    {
        using var temp = new TempFolder();
        var cache = new HubCache(temp.Path, RepoId.Parse("org/name"));
        string commit = new('c', 40);
        cache.WriteRef("main", commit);
        cache.WriteRef(commit, commit);
        Assert.Equal(commit, File.ReadAllText(cache.RefPath("main")));
        Assert.Equal(["main"], Directory.GetFiles(Path.Combine(cache.RepoFolder, "refs")).Select(Path.GetFileName));
    }
}
