using System.Diagnostics;
using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Hub.Tests;

/// <summary>
/// The small files the Hub code reads whole (a cache ref, the token file) go through <see cref="BoundedFile"/>: a FIFO
/// without a writer or an oversized file is a clear error naming the file, never a hang or an endless read.
/// </summary>
public sealed class HubSmallFileTests
{
    private const string Commit = "abcdefabcdefabcdefabcdefabcdefabcdefabcd";

    /// <summary>Each read runs on the thread pool with a deadline, so a regression hangs one task and fails, not the run.</summary>
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start("mkfifo", [path]);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    private static string MakeRepoWithRef(string cache, Action<string> makeRef)
    {
        string repo = Path.Combine(cache, "models--org--Model");
        string snapshot = Path.Combine(repo, "snapshots", Commit);
        Directory.CreateDirectory(snapshot);
        File.WriteAllText(Path.Combine(snapshot, "config.json"), "{}");
        Directory.CreateDirectory(Path.Combine(repo, "refs"));
        makeRef(Path.Combine(repo, "refs", "main"));
        return repo;
    }

    private static async Task<InputFileException> RefusedWithinDeadline(Func<object?> read)
    {
        var task = Task.Run(read);
        var e = await Assert.ThrowsAsync<InputFileException>(() => task.WaitAsync(Deadline));
        return e;
    }

    [Fact]
    public async Task A_fifo_as_refs_main_is_refused_by_the_repo_id_lookup()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var temp = new TempFolder();
        string repo = MakeRepoWithRef(temp.Path, MakeFifo);
        var e = await RefusedWithinDeadline(() => ModelLocator.Resolve("org/Model", cacheDirectory: temp.Path));
        Assert.Equal(InputFileProblem.NotRegularFile, e.Problem);
        Assert.Contains("hub cache reference", e.Message);
        Assert.Contains(Path.Combine(repo, "refs", "main"), e.Message);
        Assert.Contains("named pipe", e.Message);
    }

    [Fact]
    public async Task A_fifo_as_refs_main_is_refused_in_a_hub_cache_model_folder()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var temp = new TempFolder();
        string repo = MakeRepoWithRef(temp.Path, MakeFifo);
        var e = await RefusedWithinDeadline(() => Checkpoints.MllamaCheckpoint.ResolveModelDirectory(repo));
        Assert.Equal(InputFileProblem.NotRegularFile, e.Problem);
        Assert.Contains("named pipe", e.Message);
    }

    [Fact]
    public async Task An_oversized_ref_is_refused_at_the_shared_limit()
    {
        using var temp = new TempFolder();
        MakeRepoWithRef(temp.Path, path => File.WriteAllText(path, Commit + new string(' ', (int)BoundedFile.MaxRefBytes)));
        var e = await RefusedWithinDeadline(() => ModelLocator.Resolve("org/Model", cacheDirectory: temp.Path));
        Assert.Equal(InputFileProblem.TooLarge, e.Problem);
        Assert.Contains(BoundedFile.FormatBytes(BoundedFile.MaxRefBytes), e.Message);
    }

    [Fact]
    public async Task WriteRef_replaces_a_fifo_without_reading_it()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var temp = new TempFolder();
        var cache = new HubCache(temp.Path, RepoId.Parse("org/Model"));
        Directory.CreateDirectory(Path.GetDirectoryName(cache.RefPath("main"))!);
        MakeFifo(cache.RefPath("main"));
        await Task.Run(() => cache.WriteRef("main", Commit)).WaitAsync(Deadline); // a TimeoutException when it blocks
        Assert.Equal(Commit, File.ReadAllText(cache.RefPath("main")));
        Assert.Equal(Commit, cache.TryResolveCommit("main"));
    }

    [Fact]
    public async Task A_fifo_or_device_as_the_token_file_is_an_error_not_a_hang()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var temp = new TempFolder();
        string fifo = Path.Combine(temp.Path, "token");
        MakeFifo(fifo);
        var e = await RefusedWithinDeadline(() => HubSettings.FromEnvironment(name => name == "HF_HOME" ? temp.Path : null));
        Assert.Contains("token file", e.Message);
        Assert.Contains("named pipe", e.Message);
        var zero = await RefusedWithinDeadline(() => HubSettings.FromEnvironment(name => name == "HF_TOKEN_PATH" ? "/dev/zero" : null));
        Assert.Contains("character device", zero.Message);
    }
}
