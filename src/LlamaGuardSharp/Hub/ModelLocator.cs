namespace LlamaGuardSharp.Hub;

/// <summary>
/// Turns what a user gives as "the model" into a model folder: an existing path stays that path (a model folder or a
/// hub-cache <c>models--org--name</c> folder); otherwise a Hub repository id <c>org/name</c> is looked up in the hub
/// cache — <c>refs/{revision}</c> (default <c>main</c>) → <c>snapshots/{commit}</c>, or the snapshot of a commit sha.
/// <see cref="Resolve"/> never touches the network; <see cref="ResolveAsync"/> downloads a missing model only when
/// asked to (<see cref="ModelLocatorOptions.DownloadIfMissing"/>).
/// </summary>
public static class ModelLocator
{
    /// <summary>The model this project runs: <c>meta-llama/Llama-Guard-3-11B-Vision</c>.</summary>
    public const string DefaultRepoId = "meta-llama/Llama-Guard-3-11B-Vision";

    /// <summary>
    /// The folder to load for <paramref name="pathOrRepoId"/>, offline. A value that is neither an existing path nor
    /// shaped like <c>org/name</c> is returned unchanged (loading it then reports the missing folder).
    /// </summary>
    /// <param name="pathOrRepoId">A model folder, a hub-cache repository folder, or a repository id.</param>
    /// <param name="revision">Branch, tag or commit sha for a repository id (default <c>main</c>); not allowed with a path.</param>
    /// <param name="cacheDirectory">The hub cache (default: <c>HF_HUB_CACHE</c>, <c>$HF_HOME/hub</c>, <c>~/.cache/huggingface/hub</c>).</param>
    /// <exception cref="ModelNotCachedException">A repository id that the cache does not hold (at that revision, or completely).</exception>
    public static string Resolve(string pathOrRepoId, string? revision = null, string? cacheDirectory = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(pathOrRepoId);
        if (Directory.Exists(pathOrRepoId) || File.Exists(pathOrRepoId))
        {
            if (revision is not null)
            {
                throw new ArgumentException($"A revision ('{revision}') selects a snapshot of a Hub repository id; {pathOrRepoId} is a folder, pass the snapshot folder itself.");
            }
            return pathOrRepoId;
        }
        if (!RepoId.TryParse(pathOrRepoId, out var repoId))
        {
            return pathOrRepoId;
        }
        revision ??= "main";
        string cache = cacheDirectory ?? HubSettings.FromEnvironment().CacheDirectory;
        return FindSnapshot(repoId, revision, cache, out string? problem)
            ?? throw new ModelNotCachedException(repoId, revision, cache,
                $"{pathOrRepoId} is not a folder, and {problem}: download it with `llamaguard download {repoId}"
                + (revision == "main" ? "" : $" --revision {revision}") + (cacheDirectory is null ? "" : $" --cache-dir {cacheDirectory}")
                + "` (or pass --download-if-missing).");
    }

    /// <summary>
    /// <see cref="Resolve"/>, and when the repository is not cached and <see cref="ModelLocatorOptions.DownloadIfMissing"/>
    /// is set, downloads its runtime files into the cache first (then the snapshot folder is returned).
    /// </summary>
    public static async Task<string> ResolveAsync(string pathOrRepoId, ModelLocatorOptions? options = null, IProgress<HubDownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new ModelLocatorOptions();
        // One cache for the lookup and the download, so a model fetched here is found here next time.
        string? cache = options.CacheDirectory ?? options.Settings?.CacheDirectory;
        try
        {
            return Resolve(pathOrRepoId, options.Revision, cache);
        }
        catch (ModelNotCachedException e) when (options.DownloadIfMissing)
        {
            var settings = options.Settings ?? HubSettings.FromEnvironment();
            using var client = new HubClient(settings);
            var result = await new HubDownloader(client).DownloadAsync(new HubDownloadRequest(e.RepoId)
            {
                Revision = e.Revision,
                CacheDirectory = e.CacheDirectory,
            }, progress, cancellationToken).ConfigureAwait(false);
            return result.Folder;
        }
    }

    private static string? FindSnapshot(RepoId repoId, string revision, string cacheDirectory, out string? problem)
    {
        var cache = new HubCache(cacheDirectory, repoId);
        if (!Directory.Exists(cache.RepoFolder))
        {
            problem = $"the Hugging Face cache {cache.CacheDirectory} has no {repoId}";
            return null;
        }
        string? commit = cache.TryResolveCommit(revision);
        if (commit is null)
        {
            problem = $"the Hugging Face cache {cache.CacheDirectory} has {repoId} but not at revision '{revision}'";
            return null;
        }
        string snapshot = cache.SnapshotFolder(commit);
        if (HubCache.ResolveFile(Path.Combine(snapshot, "config.json")) is null)
        {
            problem = $"the cached snapshot {snapshot} of {repoId} is incomplete (no config.json)";
            return null;
        }
        problem = null;
        return snapshot;
    }
}

/// <summary>How <see cref="ModelLocator.ResolveAsync"/> finds (and, if asked, fetches) a model given as a repository id.</summary>
public sealed record ModelLocatorOptions
{
    /// <summary>Branch, tag or commit sha (default <c>main</c>).</summary>
    public string? Revision { get; init; }

    /// <summary>The hub cache, for the lookup and the download (default: <see cref="Settings"/>' cache, else the environment's).</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Download the runtime files of a repository that is not cached (the only case that uses the network).</summary>
    public bool DownloadIfMissing { get; init; }

    /// <summary>Endpoint and token for that download (default: from the environment).</summary>
    public HubSettings? Settings { get; init; }
}
