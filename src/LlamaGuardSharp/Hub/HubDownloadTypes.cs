namespace LlamaGuardSharp.Hub;

/// <summary>What <see cref="HubDownloader.DownloadAsync"/> fetches and where it puts it.</summary>
/// <param name="RepoId">The repository.</param>
public sealed record HubDownloadRequest(RepoId RepoId)
{
    /// <summary>Branch, tag or commit sha (default <c>main</c>).</summary>
    public string Revision { get; init; } = "main";

    /// <summary>The hub cache to fill (default: the environment's, <see cref="HubSettings.CacheDirectory"/>).</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Instead of the cache: plain files in this folder (with huggingface_hub's
    /// <c>.cache/huggingface/download/*.metadata</c> bookkeeping so a second run is a no-op).</summary>
    public string? LocalDirectory { get; init; }

    /// <summary>Which files (default: what the runtime needs, never <c>original/</c>).</summary>
    public FilePatterns Files { get; init; } = FilePatterns.Default;

    /// <summary>Files downloaded at the same time (huggingface_hub's default is 8).</summary>
    public int MaxParallel { get; init; } = 8;
}

/// <summary>How one file was obtained.</summary>
public enum HubFileOutcome
{
    /// <summary>Downloaded from the first byte.</summary>
    Downloaded,
    /// <summary>Continued from a partial download left by an earlier run.</summary>
    Resumed,
    /// <summary>Already in the snapshot (or local folder) at this commit: no request made.</summary>
    AlreadyPresent,
    /// <summary>Its blob was already cached (e.g. by another revision): only the snapshot link was made.</summary>
    LinkedExistingBlob,
}

/// <summary>One file of a finished download.</summary>
/// <param name="Path">Repository path.</param>
/// <param name="Size">Bytes.</param>
/// <param name="BytesTransferred">Bytes received over the network for it in this run.</param>
/// <param name="Outcome">How it was obtained.</param>
/// <param name="LocalPath">Where it is now (the snapshot link, or the file in the local folder).</param>
public sealed record HubDownloadedFile(string Path, long Size, long BytesTransferred, HubFileOutcome Outcome, string LocalPath);

/// <summary>A finished download.</summary>
/// <param name="RepoId">The repository.</param>
/// <param name="Revision">The revision asked for.</param>
/// <param name="Commit">The commit it resolved to.</param>
/// <param name="Folder">The model folder: <c>snapshots/{commit}</c> in the cache, or the local folder.</param>
/// <param name="Files">Every selected file, in repository order.</param>
/// <param name="Elapsed">Wall time of the whole download.</param>
public sealed record HubDownloadResult(RepoId RepoId, string Revision, string Commit, string Folder, IReadOnlyList<HubDownloadedFile> Files, TimeSpan Elapsed)
{
    /// <summary>Bytes received over the network in this run (0 when everything was already there).</summary>
    public long BytesTransferred => Files.Sum(f => f.BytesTransferred);

    /// <summary>Bytes of all selected files.</summary>
    public long TotalBytes => Files.Sum(f => f.Size);
}

/// <summary>Where a file's download stands (<see cref="HubDownloadProgress.State"/>).</summary>
public enum HubFileState
{
    /// <summary>Known to be needed; not started yet.</summary>
    Queued,
    /// <summary>Bytes arriving (<see cref="HubDownloadProgress.FileDone"/> includes a resumed partial file).</summary>
    Transferring,
    /// <summary>Complete and verified (or already present).</summary>
    Done,
}

/// <summary>One progress report: a file's state and the totals.</summary>
/// <param name="Path">Repository path of the file the report is about.</param>
/// <param name="FileSize">Its size.</param>
/// <param name="FileDone">Its bytes on disk so far.</param>
/// <param name="State">Its state.</param>
/// <param name="TotalSize">Bytes of all selected files.</param>
/// <param name="TotalDone">Bytes of all selected files on disk so far.</param>
public sealed record HubDownloadProgress(string Path, long FileSize, long FileDone, HubFileState State, long TotalSize, long TotalDone);
