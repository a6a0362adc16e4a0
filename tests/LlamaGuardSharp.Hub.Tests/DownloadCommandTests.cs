using System.Diagnostics;
using System.Text.Json;

namespace LlamaGuardSharp.Hub.Tests;

/// <summary>
/// <c>llamaguard download</c> and <c>--model REPO_ID</c> end to end, each run a real child process: killed mid-download
/// and resumed, a run that transfers nothing, then <c>classify --model org/name</c> offline on what was downloaded.
/// </summary>
public sealed class DownloadCommandTests(TinyModelRepo model) : IClassFixture<TinyModelRepo>, IAsyncLifetime
{
    private readonly TempFolder _temp = new();
    private FakeHub _hub = null!;

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _hub.AddRepo(TinyModelRepo.RepoId, TinyModelRepo.CommitA, model.Files);
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        _temp.Dispose();
    }

    private string Cache => Path.Combine(_temp.Path, "hub");

    private Dictionary<string, string?> Environment(bool offline = false) => new()
    {
        ["HF_ENDPOINT"] = offline ? "http://127.0.0.1:9" : _hub.Endpoint.AbsoluteUri,
        ["HF_HOME"] = Path.Combine(_temp.Path, "home"),
        ["HF_HUB_CACHE"] = Cache,
        ["HF_HUB_OFFLINE"] = offline ? "1" : null,
    };

    [Fact]
    public async Task Killed_mid_download_resumes_then_a_rerun_transfers_nothing_then_classify_runs_offline()
    {
        var shard = model.LargestShard;
        _hub.BytesPerSecond[shard.Sha256] = 1_500_000;
        string incomplete = Path.Combine(Cache, "models--test-org--Tiny-Guard", "blobs", shard.Sha256 + ".incomplete");

        using (var process = Process.Start(ChildProcess.StartInfo(Environment(), "download", TinyModelRepo.RepoId))!)
        {
            _ = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            var watch = Stopwatch.StartNew();
            while (!(File.Exists(incomplete) && new FileInfo(incomplete).Length >= 1_000_000))
            {
                Assert.False(process.HasExited, "the download finished before it could be killed");
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), "the shard's download never started");
                await Task.Delay(50);
            }
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        long partial = new FileInfo(incomplete).Length;
        Assert.InRange(partial, 1_000_000, shard.Content.Length - 1);
        Assert.False(File.Exists(Path.Combine(Cache, "models--test-org--Tiny-Guard", "blobs", shard.Sha256)));
        Assert.False(File.Exists(Path.Combine(Cache, "models--test-org--Tiny-Guard", "refs", "main")));

        _hub.BytesPerSecond.Clear();
        var (exit, output, error) = await ChildProcess.RunAsync(Environment(), "download", TinyModelRepo.RepoId, "--json");
        Assert.True(exit == 0, error);
        using (var summary = JsonDocument.Parse(output))
        {
            var root = summary.RootElement;
            Assert.Equal(TinyModelRepo.CommitA, root.GetProperty("commit").GetString());
            var file = root.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("path").GetString() == shard.Path);
            Assert.Equal("resumed", file.GetProperty("outcome").GetString());
            Assert.Equal(shard.Content.Length - partial, file.GetProperty("bytes_transferred").GetInt64());
            Assert.Equal(shard.Content, File.ReadAllBytes(file.GetProperty("local_path").GetString()!));
        }
        Assert.Equal($"bytes={partial}-", _hub.Requests.Last(r => r.Path == $"/storage/{shard.Sha256}").Range);
        Assert.DoesNotContain("\u001b[", error); // stderr is a pipe: plain progress lines, no terminal escapes
        Assert.Contains("download: ", error);

        long served = _hub.BodyBytes;
        var again = await ChildProcess.RunAsync(Environment(), "download", TinyModelRepo.RepoId, "--json");
        Assert.True(again.ExitCode == 0, again.Error);
        using (var summary = JsonDocument.Parse(again.Output))
        {
            Assert.Equal(0, summary.RootElement.GetProperty("bytes_transferred").GetInt64());
            Assert.All(summary.RootElement.GetProperty("files").EnumerateArray(), f => Assert.Equal("present", f.GetProperty("outcome").GetString()));
        }
        Assert.Equal(served, _hub.BodyBytes);

        // Offline, with an endpoint nothing listens on: the repository id is found in the cache.
        var classify = await ChildProcess.RunAsync(Environment(offline: true), "classify", "--model", TinyModelRepo.RepoId, "--user", "Hello there", "--json");
        Assert.True(classify.ExitCode == 0, classify.Error);
        Assert.Contains($"loaded {Path.Combine(Cache, "models--test-org--Tiny-Guard", "snapshots", TinyModelRepo.CommitA)}", classify.Error);
        using (var verdict = JsonDocument.Parse(classify.Output))
        {
            Assert.Contains(verdict.RootElement.GetProperty("verdict").GetString(), new[] { "safe", "unsafe", "unparseable" });
            Assert.True(verdict.RootElement.GetProperty("unsafe_probability").GetDouble() is >= 0 and <= 1, classify.Output);
        }
    }

    [Fact]
    public async Task A_repo_id_that_is_not_cached_is_a_one_line_error_suggesting_download_and_makes_no_request()
    {
        var (exit, output, error) = await ChildProcess.RunAsync(Environment(offline: true), "classify", "--model", TinyModelRepo.RepoId, "--user", "Hi");

        Assert.Equal(1, exit);
        Assert.Empty(output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains($"llamaguard download {TinyModelRepo.RepoId}", line);
        Assert.Empty(_hub.Requests);
    }

    [Fact]
    public async Task Download_if_missing_fetches_then_classifies_and_offline_mode_refuses_it()
    {
        var offline = await ChildProcess.RunAsync(Environment(offline: true), "classify", "--model", TinyModelRepo.RepoId, "--download-if-missing", "--user", "Hi");
        Assert.Equal(1, offline.ExitCode);
        Assert.Contains("error: Offline mode is on (HF_HUB_OFFLINE)", offline.Error);

        var (exit, output, error) = await ChildProcess.RunAsync(Environment(), "classify", "--model", TinyModelRepo.RepoId, "--download-if-missing", "--user", "Hi");
        Assert.True(exit == 0, error);
        Assert.NotEmpty(output);
        Assert.Contains("download: ", error);
        Assert.True(File.Exists(Path.Combine(Cache, "models--test-org--Tiny-Guard", "refs", "main")));
    }

    [Fact]
    public async Task Gated_repository_errors_are_one_line_with_what_to_do()
    {
        _hub.AddRepo(TinyModelRepo.RepoId, TinyModelRepo.CommitA, model.Files, gatedToken: "hf_right");

        var (exit, _, error) = await ChildProcess.RunAsync(Environment(), "download", TinyModelRepo.RepoId, "--token", "hf_wrong");

        Assert.Equal(1, exit);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error: "));
        Assert.Contains("gated", line);
        Assert.Contains("accept the licence", line);
        Assert.Contains("HF_TOKEN", line);

        File.WriteAllText(Path.Combine(_temp.Path, "token"), "hf_right\n");
        var env = Environment();
        env["HF_TOKEN_PATH"] = Path.Combine(_temp.Path, "token");
        var granted = await ChildProcess.RunAsync(env, "download", TinyModelRepo.RepoId);
        Assert.True(granted.ExitCode == 0, granted.Error);
        Assert.Equal(Path.Combine(Cache, "models--test-org--Tiny-Guard", "snapshots", TinyModelRepo.CommitA), granted.Output.Trim());
    }

    [Fact]
    public async Task Local_dir_output_is_a_model_folder_classify_loads()
    {
        string local = Path.Combine(_temp.Path, "plain");
        var (exit, output, error) = await ChildProcess.RunAsync(Environment(), "download", TinyModelRepo.RepoId, "--local-dir", local);
        Assert.True(exit == 0, error);
        Assert.Equal(Path.GetFullPath(local), output.Trim());
        var classify = await ChildProcess.RunAsync(Environment(offline: true), "classify", "--model", local, "--user", "Hi");
        Assert.True(classify.ExitCode == 0, classify.Error);
        Assert.False(Directory.Exists(Cache));
    }

    [Fact]
    public async Task Conflicting_and_bad_options_are_user_errors()
    {
        var both = await ChildProcess.RunAsync(Environment(), "download", TinyModelRepo.RepoId, "--local-dir", "/tmp/x", "--cache-dir", "/tmp/y");
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("error: --cache-dir and --local-dir", both.Error);
        var badRepo = await ChildProcess.RunAsync(Environment(), "download", "not a repo");
        Assert.Equal(1, badRepo.ExitCode);
        Assert.Contains("is not a Hub repository id", badRepo.Error);
    }
}
