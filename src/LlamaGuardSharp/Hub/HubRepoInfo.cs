namespace LlamaGuardSharp.Hub;

/// <summary>A repository at one commit, as <c>GET /api/models/{repo}/revision/{rev}?blobs=true</c> describes it.</summary>
/// <param name="RepoId">The repository.</param>
/// <param name="Commit">The 40-digit commit sha the revision resolved to.</param>
/// <param name="Files">Every file at that commit.</param>
public sealed record HubRepoInfo(RepoId RepoId, string Commit, IReadOnlyList<HubRepoFile> Files);

/// <summary>One file of a repository.</summary>
/// <param name="Path">Path in the repository, <c>/</c>-separated.</param>
/// <param name="Size">Size in bytes (the real file's size for LFS files), or null when the Hub did not say.</param>
/// <param name="LfsSha256">For files stored with git LFS: the sha256 of the contents (which is also their ETag).</param>
public sealed record HubRepoFile(string Path, long? Size, string? LfsSha256)
{
    /// <summary>Stored with git LFS (large files; downloads redirect to the storage host).</summary>
    public bool IsLfs => LfsSha256 is not null;
}

/// <summary>What a <c>HEAD {endpoint}/{repo}/resolve/{commit}/{file}</c> says about a file.</summary>
/// <param name="Etag">Normalised ETag (<c>X-Linked-Etag</c> before <c>ETag</c>; <c>W/</c> and quotes stripped): the blob's name in the cache.</param>
/// <param name="Size">Bytes (<c>X-Linked-Size</c> before <c>Content-Length</c>).</param>
/// <param name="Commit"><c>X-Repo-Commit</c>, when sent.</param>
/// <param name="Location">Where to GET the bytes: the storage host the Hub redirects to, or the resolve address itself.</param>
public sealed record HubFileMetadata(string Etag, long Size, string? Commit, Uri Location);
