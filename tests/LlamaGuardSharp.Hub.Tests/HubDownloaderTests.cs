using System.Diagnostics;

namespace LlamaGuardSharp.Hub.Tests;

/// <summary>Downloads from the fake Hub into a fresh cache: the layout, a second run, resume, and every failure.</summary>
public sealed class HubDownloaderTests(TinyModelRepo model) : IClassFixture<TinyModelRepo>, IAsyncLifetime
{
    private const string Token = "hf_test_token";
    private readonly TempFolder _temp = new();
    private FakeHub _hub = null!;

    private static readonly HubClientOptions FastRetries = new()
    {
        MaxRetries = 3,
        InitialRetryDelay = TimeSpan.FromMilliseconds(20),
        MaxRetryDelay = TimeSpan.FromMilliseconds(100),
        RequestTimeout = TimeSpan.FromSeconds(20),
        ReadTimeout = TimeSpan.FromSeconds(20),
    };

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

    private HubSettings Settings(string? token = null) => new(_hub.Endpoint, Cache, token, Offline: false);

    private async Task<HubDownloadResult> DownloadAsync(HubDownloadRequest? request = null, string? token = null, HubClientOptions? options = null,
        Func<string, long>? freeSpace = null, HubSettings? settings = null)
    {
        using var client = new HubClient(settings ?? Settings(token), options ?? FastRetries);
        var downloader = freeSpace is null ? new HubDownloader(client) : new HubDownloader(client) { FreeSpace = freeSpace };
        return await downloader.DownloadAsync(request ?? new HubDownloadRequest(RepoId.Parse(TinyModelRepo.RepoId)));
    }

    private string RepoFolder => Path.Combine(Cache, "models--test-org--Tiny-Guard");

    [Fact]
    public async Task Downloads_the_runtime_files_into_the_huggingface_hub_cache_layout()
    {
        var result = await DownloadAsync(token: Token);

        Assert.Equal(TinyModelRepo.CommitA, result.Commit);
        Assert.Equal(Path.Combine(RepoFolder, "snapshots", TinyModelRepo.CommitA), result.Folder);
        Assert.Equal(model.RuntimeFiles.Select(f => f.Path).Order(), result.Files.Select(f => f.Path).Order());
        Assert.All(result.Files, f => Assert.Equal(HubFileOutcome.Downloaded, f.Outcome));
        Assert.Equal(model.RuntimeFiles.Sum(f => (long)f.Content.Length), result.BytesTransferred);

        // refs/main: the commit sha alone, no newline (huggingface_hub writes exactly f.write(commit_hash)).
        Assert.Equal(TinyModelRepo.CommitA, File.ReadAllText(Path.Combine(RepoFolder, "refs", "main")));
        foreach (var file in model.RuntimeFiles)
        {
            var link = new FileInfo(Path.Combine(result.Folder, file.Path));
            // Relative symlinks into blobs/, named by the normalised ETag: sha256 for LFS files, git blob sha1 otherwise.
            Assert.Equal($"../../blobs/{file.Etag}", link.LinkTarget);
            Assert.Equal(file.Content, File.ReadAllBytes(link.FullName));
        }
        Assert.Equal(model.RuntimeFiles.Select(f => f.Etag).Order(), Directory.GetFiles(Path.Combine(RepoFolder, "blobs")).Select(Path.GetFileName).Order());
        Assert.False(Directory.Exists(Path.Combine(result.Folder, "original")));
        Assert.False(File.Exists(Path.Combine(result.Folder, "README.md")));
        Assert.Empty(Directory.GetFiles(Cache, "*.incomplete", SearchOption.AllDirectories));

        // The token went to the Hub, never to the storage host the LFS files were redirected to.
        var requests = _hub.Requests.ToArray();
        Assert.All(requests.Where(r => r.Host == "127.0.0.1"), r => Assert.Equal($"Bearer {Token}", r.Authorization));
        var storage = requests.Where(r => r.Path.StartsWith("/storage/", StringComparison.Ordinal)).ToArray();
        Assert.Equal(model.RuntimeFiles.Count(f => f.Lfs), storage.Length);
        Assert.All(storage, r => Assert.Null(r.Authorization));
        Assert.All(storage, r => Assert.Equal("localhost", r.Host));
    }

    [Fact]
    public async Task A_second_run_makes_one_metadata_call_and_transfers_nothing()
    {
        await DownloadAsync();
        long servedBefore = _hub.BodyBytes;
        int requestsBefore = _hub.Requests.Count;

        var second = await DownloadAsync();

        Assert.Equal(0, second.BytesTransferred);
        Assert.All(second.Files, f => Assert.Equal(HubFileOutcome.AlreadyPresent, f.Outcome));
        Assert.Equal(servedBefore, _hub.BodyBytes);
        var newRequests = _hub.Requests.Skip(requestsBefore).ToArray();
        Assert.Single(newRequests);
        Assert.StartsWith("/api/models/test-org/Tiny-Guard/revision/main", newRequests[0].Path);
    }

    [Fact]
    public async Task A_snapshot_link_whose_blob_was_deleted_is_downloaded_again()
    {
        await DownloadAsync();
        var shard = model.LargestShard;
        File.Delete(Path.Combine(RepoFolder, "blobs", shard.Sha256));

        var again = await DownloadAsync();

        var file = again.Files.Single(f => f.Path == shard.Path);
        Assert.Equal(HubFileOutcome.Downloaded, file.Outcome);
        Assert.Equal(shard.Content, File.ReadAllBytes(file.LocalPath));
        Assert.All(again.Files.Where(f => f.Path != shard.Path), f => Assert.Equal(HubFileOutcome.AlreadyPresent, f.Outcome));
    }

    [Fact]
    public async Task A_connection_dropped_mid_body_is_resumed_with_a_range_request()
    {
        var shard = model.LargestShard;
        _hub.DropOnceAfter[shard.Sha256] = 3 * 64 * 1024 + 1000;

        var result = await DownloadAsync();

        var file = result.Files.Single(f => f.Path == shard.Path);
        Assert.Equal(shard.Content, File.ReadAllBytes(file.LocalPath));
        Assert.Equal(shard.Content.Length, file.BytesTransferred);
        var gets = _hub.Requests.Where(r => r.Path == $"/storage/{shard.Sha256}").ToArray();
        Assert.Equal(2, gets.Length);
        Assert.Null(gets[0].Range);
        // The resumed request starts where the received bytes end (an aborted connection may lose what was in flight).
        Assert.Matches("^bytes=[0-9]+-$", gets[1].Range);
        Assert.InRange(long.Parse(gets[1].Range![6..^1]), 1, 3 * 64 * 1024 + 1000);
        Assert.Equal(206, gets[1].Status);
    }

    [Fact]
    public async Task A_partial_blob_left_by_an_earlier_run_is_resumed_and_verified()
    {
        var shard = model.LargestShard;
        string incomplete = Path.Combine(RepoFolder, "blobs", shard.Sha256 + ".incomplete");
        Directory.CreateDirectory(Path.GetDirectoryName(incomplete)!);
        File.WriteAllBytes(incomplete, shard.Content[..1_000_000]);

        var result = await DownloadAsync();

        var file = result.Files.Single(f => f.Path == shard.Path);
        Assert.Equal(HubFileOutcome.Resumed, file.Outcome);
        Assert.Equal(shard.Content.Length - 1_000_000, file.BytesTransferred);
        Assert.Equal("bytes=1000000-", _hub.Requests.Single(r => r.Path == $"/storage/{shard.Sha256}").Range);
        Assert.Equal(shard.Content, File.ReadAllBytes(file.LocalPath));
        Assert.False(File.Exists(incomplete));
    }

    [Fact]
    public async Task A_partial_blob_with_wrong_bytes_fails_the_hash_and_is_deleted()
    {
        var shard = model.LargestShard;
        string incomplete = Path.Combine(RepoFolder, "blobs", shard.Sha256 + ".incomplete");
        Directory.CreateDirectory(Path.GetDirectoryName(incomplete)!);
        File.WriteAllBytes(incomplete, new byte[1000]); // not the file's first bytes

        var e = await Assert.ThrowsAsync<HubException>(() => DownloadAsync());

        Assert.Equal(HubErrorKind.Integrity, e.Kind);
        Assert.False(File.Exists(incomplete));
        // The next run starts that file again and succeeds.
        var result = await DownloadAsync();
        Assert.Equal(shard.Content, File.ReadAllBytes(result.Files.Single(f => f.Path == shard.Path).LocalPath));
    }

    [Fact]
    public async Task An_lfs_etag_that_is_not_the_listed_sha256_is_refused_before_downloading()
    {
        var shard = model.LargestShard;
        string other = new('e', 64);
        _hub.LinkedEtag[shard.Sha256] = other;

        var e = await Assert.ThrowsAsync<HubException>(() => DownloadAsync());

        Assert.Equal(HubErrorKind.Protocol, e.Kind);
        Assert.Contains(shard.Path, e.Message);
        Assert.Contains(other, e.Message);
        Assert.Contains(shard.Sha256, e.Message);
        Assert.DoesNotContain(_hub.Requests, r => r.Path == $"/storage/{shard.Sha256}");
        Assert.False(File.Exists(Path.Combine(RepoFolder, "blobs", other)));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "refs", "main")));
    }

    [Fact]
    public async Task ModelLocator_finds_what_it_downloaded_into_the_cache_of_the_settings_it_was_given()
    {
        var options = new ModelLocatorOptions { DownloadIfMissing = true, Settings = Settings() };

        string first = await ModelLocator.ResolveAsync(TinyModelRepo.RepoId, options);
        int requests = _hub.Requests.Count;
        string second = await ModelLocator.ResolveAsync(TinyModelRepo.RepoId, options);

        Assert.Equal(Path.Combine(RepoFolder, "snapshots", TinyModelRepo.CommitA), first);
        Assert.Equal(first, second);
        Assert.True(requests > 0);
        Assert.Equal(requests, _hub.Requests.Count);
    }

    [Fact]
    public async Task A_blob_with_a_wrong_hash_fails_loudly_and_leaves_nothing_behind()
    {
        var shard = model.LargestShard;
        _hub.Corrupt[shard.Sha256] = true;

        var e = await Assert.ThrowsAsync<HubException>(() => DownloadAsync());

        Assert.Equal(HubErrorKind.Integrity, e.Kind);
        Assert.Contains(shard.Path, e.Message);
        Assert.Contains("sha256", e.Message);
        Assert.Contains(shard.Sha256, e.Message);
        Assert.False(File.Exists(Path.Combine(RepoFolder, "blobs", shard.Sha256)));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "blobs", shard.Sha256 + ".incomplete")));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "snapshots", TinyModelRepo.CommitA, shard.Path)));
        Assert.False(File.Exists(Path.Combine(RepoFolder, "refs", "main")));
    }

    [Fact]
    public async Task Throttling_is_retried_after_the_delay_the_hub_asks_for()
    {
        _hub.Throttle(count: 2, retryAfterSeconds: 1);
        var watch = Stopwatch.StartNew();

        var result = await DownloadAsync();

        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1.9), $"took {watch.Elapsed}; two Retry-After: 1 answers should have been waited out");
        Assert.Equal(2, _hub.Requests.Count(r => r.Status == 429));
        Assert.Equal(model.RuntimeFiles.Count, result.Files.Count);
    }

    [Fact]
    public async Task Server_errors_are_retried_with_backoff()
    {
        _hub.Throttle(count: 2, retryAfterSeconds: 0, status: 503);

        var result = await DownloadAsync();

        Assert.Equal(2, _hub.Requests.Count(r => r.Status == 503));
        Assert.Equal(model.RuntimeFiles.Count, result.Files.Count);
    }

    [Fact]
    public async Task Throttling_that_outlasts_the_retries_names_the_rate_limit()
    {
        _hub.Throttle(count: 100, retryAfterSeconds: 0);

        var e = await Assert.ThrowsAsync<HubException>(() => DownloadAsync(options: FastRetries with { MaxRetries = 2 }));

        Assert.Equal(HubErrorKind.RateLimited, e.Kind);
        Assert.Contains("429", e.Message);
        Assert.Equal(3, _hub.Requests.Count(r => r.Status == 429));
    }

    [Fact]
    public async Task A_retry_after_longer_than_allowed_fails_at_once()
    {
        _hub.Throttle(count: 1, retryAfterSeconds: 3600);

        var e = await Assert.ThrowsAsync<HubException>(() => DownloadAsync());

        Assert.Equal(HubErrorKind.RateLimited, e.Kind);
        Assert.Contains("3600 s", e.Message);
    }

    [Fact]
    public async Task A_gated_repository_says_to_accept_the_licence_and_set_HF_TOKEN()
    {
        _hub.AddRepo(TinyModelRepo.RepoId, TinyModelRepo.CommitA, model.Files, gatedToken: Token);

        var anonymous = await Assert.ThrowsAsync<HubException>(() => DownloadAsync());
        Assert.Equal(HubErrorKind.Gated, anonymous.Kind);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Contains("accept the licence", anonymous.Message);
        Assert.Contains($"{_hub.Endpoint.AbsoluteUri.TrimEnd('/')}/{TinyModelRepo.RepoId}", anonymous.Message);
        Assert.Contains("HF_TOKEN", anonymous.Message);
        Assert.Contains("no access token was given", anonymous.Message);

        var wrongToken = await Assert.ThrowsAsync<HubException>(() => DownloadAsync(token: "hf_other"));
        Assert.Equal(HubErrorKind.Gated, wrongToken.Kind);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, wrongToken.StatusCode);
        Assert.Contains("has not been granted access", wrongToken.Message);

        var granted = await DownloadAsync(token: Token);
        Assert.Equal(model.RuntimeFiles.Count, granted.Files.Count);
    }

    [Fact]
    public async Task Unknown_repository_revision_and_file_are_named()
    {
        var repo = await Assert.ThrowsAsync<HubException>(() => DownloadAsync(new HubDownloadRequest(RepoId.Parse("test-org/No-Such-Model"))));
        Assert.Equal(HubErrorKind.RepositoryNotFound, repo.Kind);
        Assert.Contains("test-org/No-Such-Model", repo.Message);
        Assert.Contains("HF_TOKEN", repo.Message); // anonymous: it may be private

        var revision = await Assert.ThrowsAsync<HubException>(() => DownloadAsync(new HubDownloadRequest(RepoId.Parse(TinyModelRepo.RepoId)) { Revision = "v9" }));
        Assert.Equal(HubErrorKind.RevisionNotFound, revision.Kind);
        Assert.Contains("'v9'", revision.Message);
        Assert.Contains(TinyModelRepo.RepoId, revision.Message);

        using var client = new HubClient(Settings(), FastRetries);
        var file = await Assert.ThrowsAsync<HubException>(() => client.GetFileMetadataAsync(RepoId.Parse(TinyModelRepo.RepoId), "main", "missing.safetensors"));
        Assert.Equal(HubErrorKind.EntryNotFound, file.Kind);
        Assert.Equal(System.Net.HttpStatusCode.NotFound, file.StatusCode);
        Assert.Contains("missing.safetensors", file.Message);
        Assert.Contains(TinyModelRepo.RepoId, file.Message);
    }

    [Fact]
    public async Task File_metadata_prefers_the_linked_etag_and_size_and_keeps_the_storage_location()
    {
        using var client = new HubClient(Settings(), FastRetries);
        var shard = model.LargestShard;
        var lfs = await client.GetFileMetadataAsync(RepoId.Parse(TinyModelRepo.RepoId), "main", shard.Path);
        Assert.Equal(shard.Sha256, lfs.Etag);
        Assert.Equal(shard.Content.Length, lfs.Size);
        Assert.Equal(TinyModelRepo.CommitA, lfs.Commit);
        Assert.Equal("localhost", lfs.Location.Host);

        var config = model.File("config.json");
        var regular = await client.GetFileMetadataAsync(RepoId.Parse(TinyModelRepo.RepoId), "main", "config.json");
        Assert.Equal(config.GitSha1, regular.Etag);
        Assert.Equal(config.Content.Length, regular.Size);
    }

    [Fact]
    public async Task A_moved_revision_gets_a_new_snapshot_reusing_unchanged_blobs()
    {
        await DownloadAsync();
        var changedConfig = new FakeFile("config.json", [.. model.File("config.json").Content, (byte)'\n'], lfs: false);
        var repo = _hub.AddRepo(TinyModelRepo.RepoId, TinyModelRepo.CommitA, model.Files);
        repo.AddCommit(TinyModelRepo.CommitB, model.Files.Where(f => f.Path != "config.json").Append(changedConfig));
        repo.Refs["main"] = TinyModelRepo.CommitB;
        long servedBefore = _hub.BodyBytes;

        var moved = await DownloadAsync();

        Assert.Equal(TinyModelRepo.CommitB, moved.Commit);
        Assert.Equal(TinyModelRepo.CommitB, File.ReadAllText(Path.Combine(RepoFolder, "refs", "main")));
        Assert.Equal(changedConfig.Content.Length, _hub.BodyBytes - servedBefore);
        Assert.Equal(HubFileOutcome.Downloaded, moved.Files.Single(f => f.Path == "config.json").Outcome);
        Assert.All(moved.Files.Where(f => f.Path != "config.json"), f => Assert.Equal(HubFileOutcome.LinkedExistingBlob, f.Outcome));
        Assert.Equal($"../../blobs/{changedConfig.GitSha1}", new FileInfo(Path.Combine(moved.Folder, "config.json")).LinkTarget);
        // The old snapshot is untouched.
        Assert.Equal(model.File("config.json").Content, File.ReadAllBytes(Path.Combine(RepoFolder, "snapshots", TinyModelRepo.CommitA, "config.json")));
        Assert.Equal(moved.Folder, ModelLocator.Resolve(TinyModelRepo.RepoId, cacheDirectory: Cache));
        Assert.Equal(Path.Combine(RepoFolder, "snapshots", TinyModelRepo.CommitA), ModelLocator.Resolve(TinyModelRepo.RepoId, TinyModelRepo.CommitA, Cache));
    }

    [Fact]
    public async Task Local_dir_gets_plain_files_with_huggingface_hub_metadata_and_a_second_run_is_a_no_op()
    {
        string local = Path.Combine(_temp.Path, "local");
        var request = new HubDownloadRequest(RepoId.Parse(TinyModelRepo.RepoId)) { LocalDirectory = local };

        var first = await DownloadAsync(request);

        Assert.Equal(Path.GetFullPath(local), first.Folder);
        foreach (var file in model.RuntimeFiles)
        {
            var info = new FileInfo(Path.Combine(local, file.Path));
            Assert.Null(info.LinkTarget);
            Assert.Equal(file.Content, File.ReadAllBytes(info.FullName));
            var metadata = File.ReadAllText(Path.Combine(local, ".cache", "huggingface", "download", file.Path + ".metadata")).Split('\n');
            Assert.Equal(TinyModelRepo.CommitA, metadata[0]);
            Assert.Equal(file.Etag, metadata[1]);
            Assert.True(double.TryParse(metadata[2], System.Globalization.CultureInfo.InvariantCulture, out _));
        }
        Assert.Equal("*", File.ReadAllText(Path.Combine(local, ".cache", "huggingface", ".gitignore")));
        Assert.False(Directory.Exists(Cache));

        long served = _hub.BodyBytes;
        var second = await DownloadAsync(request);
        Assert.Equal(0, second.BytesTransferred);
        Assert.Equal(served, _hub.BodyBytes);
        Assert.All(second.Files, f => Assert.Equal(HubFileOutcome.AlreadyPresent, f.Outcome));
    }

    [Fact]
    public async Task A_fifo_as_local_dir_metadata_is_a_clear_error_not_a_hang()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string local = Path.Combine(_temp.Path, "local");
        var request = new HubDownloadRequest(RepoId.Parse(TinyModelRepo.RepoId)) { LocalDirectory = local };
        await DownloadAsync(request);
        string metadata = Path.Combine(local, ".cache", "huggingface", "download", "config.json.metadata");
        File.Delete(metadata);
        using (var mkfifo = Process.Start("mkfifo", [metadata]))
        {
            await mkfifo.WaitForExitAsync();
        }

        var e = await Assert.ThrowsAnyAsync<IOException>(() => DownloadAsync(request).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Contains("download metadata file", e.Message);
        Assert.Contains(metadata, e.Message);
        Assert.Contains("named pipe", e.Message);
    }

    [Fact]
    public async Task Too_little_disk_space_fails_before_any_transfer()
    {
        var e = await Assert.ThrowsAsync<HubException>(() => DownloadAsync(freeSpace: _ => 1_000_000));

        Assert.Equal(HubErrorKind.DiskSpace, e.Kind);
        Assert.Contains("free", e.Message);
        Assert.Equal(0, _hub.BodyBytes);
        Assert.DoesNotContain(_hub.Requests, r => r.Path.Contains("/resolve/") || r.Path.StartsWith("/storage/"));
    }

    [Fact]
    public async Task Offline_mode_refuses_to_download_without_a_request()
    {
        var e = await Assert.ThrowsAsync<HubException>(() => DownloadAsync(settings: Settings() with { Offline = true }));

        Assert.Equal(HubErrorKind.Offline, e.Kind);
        Assert.Contains("HF_HUB_OFFLINE", e.Message);
        Assert.Empty(_hub.Requests);
    }

    [Fact]
    public async Task Parallel_downloads_stay_within_the_bound()
    {
        foreach (var file in model.Files.Where(f => f.Lfs))
        {
            _hub.BytesPerSecond[file.Sha256] = 40_000_000;
        }
        await DownloadAsync(new HubDownloadRequest(RepoId.Parse(TinyModelRepo.RepoId)) { MaxParallel = 2 });
        Assert.InRange(_hub.MaxConcurrentStorage, 1, 2);
    }

    [Fact]
    public async Task Include_and_exclude_select_files_with_fnmatch_rules()
    {
        var request = new HubDownloadRequest(RepoId.Parse(TinyModelRepo.RepoId)) { Files = new FilePatterns(["*.json"], ["tokenizer*"]) };

        var result = await DownloadAsync(request);

        // fnmatch's * crosses folders: original/params.json is a *.json too.
        Assert.Contains(result.Files, f => f.Path == "original/params.json");
        Assert.DoesNotContain(result.Files, f => f.Path.StartsWith("tokenizer", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Files, f => f.Path.EndsWith(".safetensors"));
        Assert.Equal("../../../blobs/" + model.File("original/params.json").GitSha1,
            new FileInfo(Path.Combine(result.Folder, "original", "params.json")).LinkTarget);

        var none = await Assert.ThrowsAsync<ArgumentException>(() => DownloadAsync(request with { Files = new FilePatterns(["*.bin"], []) }));
        Assert.Contains("*.bin", none.Message);
    }
}
