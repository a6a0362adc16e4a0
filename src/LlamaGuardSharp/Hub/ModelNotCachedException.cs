namespace LlamaGuardSharp.Hub;

/// <summary>
/// A model given as a Hub repository id is not in the local hub cache (or not at that revision, or only partly).
/// The message names the cache searched and the <c>llamaguard download</c> command that fetches it.
/// </summary>
public sealed class ModelNotCachedException : DirectoryNotFoundException
{
    /// <summary>Creates the exception.</summary>
    public ModelNotCachedException(RepoId repoId, string revision, string cacheDirectory, string message) : base(message)
    {
        RepoId = repoId;
        Revision = revision;
        CacheDirectory = cacheDirectory;
    }

    /// <summary>The repository asked for.</summary>
    public RepoId RepoId { get; }

    /// <summary>The revision asked for.</summary>
    public string Revision { get; }

    /// <summary>The hub cache that was searched.</summary>
    public string CacheDirectory { get; }
}
