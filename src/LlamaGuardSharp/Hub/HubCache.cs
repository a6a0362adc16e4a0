using System.Text.RegularExpressions;
using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Hub;

/// <summary>
/// One repository's folder in the Hugging Face hub cache, laid out exactly as Python's <c>huggingface_hub</c> lays it
/// out so both read and write the same files:
/// <code>
/// {cache}/models--{org}--{name}/
///     blobs/{etag}                    file contents, named by their normalised ETag (sha256 for LFS files, git blob sha1 otherwise)
///     blobs/{etag}.incomplete         while downloading (resumed from on the next run)
///     snapshots/{commit}/{path}       relative symlinks to ../../blobs/{etag} (one more ../ per folder level in path)
///     refs/{revision}                 the commit sha a branch or tag pointed to, no trailing newline
/// {cache}/.locks/models--{org}--{name}/{etag}.lock   held while a blob is downloaded
/// </code>
/// Where the file system refuses symlinks (Windows without developer mode), the blob is copied instead, as
/// huggingface_hub does.
/// </summary>
public sealed partial class HubCache
{
    /// <summary>A repository's cache under <paramref name="cacheDirectory"/>.</summary>
    public HubCache(string cacheDirectory, RepoId repoId)
    {
        ArgumentException.ThrowIfNullOrEmpty(cacheDirectory);
        ArgumentNullException.ThrowIfNull(repoId);
        CacheDirectory = Path.GetFullPath(cacheDirectory);
        RepoId = repoId;
        RepoFolder = Path.Combine(CacheDirectory, repoId.CacheFolderName);
    }

    /// <summary>The whole hub cache.</summary>
    public string CacheDirectory { get; }

    /// <summary>The repository.</summary>
    public RepoId RepoId { get; }

    /// <summary><c>{cache}/models--org--name</c>.</summary>
    public string RepoFolder { get; }

    /// <summary>A full 40-hex-digit git commit sha (a revision that needs no ref).</summary>
    public static bool IsCommitSha(string revision) => CommitShaPattern().IsMatch(revision);

    /// <summary><c>blobs/{etag}</c>.</summary>
    public string BlobPath(string etag) => Path.Combine(RepoFolder, "blobs", CheckEtag(etag));

    /// <summary><c>blobs/{etag}.incomplete</c>: the partial download a later run resumes from.</summary>
    public string IncompletePath(string etag) => BlobPath(etag) + ".incomplete";

    /// <summary><c>{cache}/.locks/models--org--name/{etag}.lock</c>.</summary>
    public string LockPath(string etag) => Path.Combine(CacheDirectory, ".locks", RepoId.CacheFolderName, CheckEtag(etag) + ".lock");

    /// <summary><c>snapshots/{commit}</c>.</summary>
    public string SnapshotFolder(string commit) => Path.Combine(RepoFolder, "snapshots", CheckCommit(commit));

    /// <summary><c>snapshots/{commit}/{path}</c> (the repository path uses <c>/</c>).</summary>
    public string SnapshotFile(string commit, string repoPath) => Path.Combine(SnapshotFolder(commit), RepoPaths.ToLocal(repoPath));

    /// <summary><c>refs/{revision}</c> (a revision may contain <c>/</c>, e.g. <c>refs/pr/1</c>, which becomes folders).</summary>
    public string RefPath(string revision) => Path.Combine(RepoFolder, "refs", RepoPaths.ToLocal(revision));

    /// <summary>
    /// The commit a revision names in this cache: a commit sha is itself (when its snapshot exists); a branch or tag is
    /// read from <c>refs/{revision}</c>. Null when the cache does not know it.
    /// </summary>
    public string? TryResolveCommit(string revision)
    {
        ArgumentException.ThrowIfNullOrEmpty(revision);
        if (IsCommitSha(revision))
        {
            return Directory.Exists(SnapshotFolder(revision)) ? revision : null;
        }
        string refPath = RefPath(revision);
        if (!File.Exists(refPath))
        {
            return null;
        }
        string commit = BoundedFile.ReadAllText(refPath, BoundedFile.MaxRefBytes, "hub cache reference").Trim();
        return IsCommitSha(commit) ? commit : throw new IOException($"The hub-cache ref {refPath} does not hold a commit sha ('{commit}').");
    }

    /// <summary>
    /// Records that <paramref name="revision"/> points at <paramref name="commit"/> (nothing when the revision is that
    /// commit): the sha alone, no newline, written to a temporary file and renamed so readers never see half of it.
    /// </summary>
    public void WriteRef(string revision, string commit)
    {
        CheckCommit(commit);
        if (revision == commit)
        {
            return;
        }
        string refPath = RefPath(revision);
        if (RefHolds(refPath, commit))
        {
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(refPath)!);
        string temporary = $"{refPath}.{Guid.NewGuid().ToString("N")[..8]}.tmp";
        File.WriteAllText(temporary, commit);
        File.Move(temporary, refPath, overwrite: true);
    }

    /// <summary>True when the ref file already holds exactly <paramref name="commit"/>; anything else there (missing,
    /// not a regular file, oversized, not text) is replaced by <see cref="WriteRef"/>.</summary>
    private static bool RefHolds(string refPath, string commit)
    {
        if (FileKinds.Of(refPath) != FileKind.Regular)
        {
            return false;
        }
        try
        {
            return BoundedFile.ReadAllText(refPath, BoundedFile.MaxRefBytes, "hub cache reference") == commit;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>
    /// Points <c>snapshots/{commit}/{path}</c> at <c>blobs/{etag}</c> with a relative symlink (replacing whatever was
    /// there), or copies the blob where symlinks are not allowed.
    /// </summary>
    public void LinkSnapshotFile(string commit, string repoPath, string etag)
    {
        string blob = BlobPath(etag);
        string pointer = SnapshotFile(commit, repoPath);
        string folder = Path.GetDirectoryName(pointer)!;
        Directory.CreateDirectory(folder);
        string relative = Path.GetRelativePath(folder, blob);
        var existing = new FileInfo(pointer);
        if (existing.LinkTarget == relative)
        {
            return;
        }
        if (existing.Exists || existing.LinkTarget is not null)
        {
            existing.Delete();
        }
        try
        {
            File.CreateSymbolicLink(pointer, relative);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            File.Copy(blob, pointer, overwrite: true);
        }
    }

    /// <summary>
    /// The file a path ends at — itself, or the final target of its symlinks — or null when there is none. (A dangling
    /// link still "exists" for <see cref="File.Exists"/>, which looks at the link itself when its target is gone.)
    /// </summary>
    public static FileInfo? ResolveFile(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is null)
        {
            return info.Exists ? info : null;
        }
        try
        {
            return info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true } target ? target : null;
        }
        catch (IOException)
        {
            return null; // a link loop
        }
    }

    private static string CheckEtag(string etag)
    {
        ArgumentException.ThrowIfNullOrEmpty(etag);
        return etag.Contains('/') || etag.Contains('\\') || etag is "." or ".."
            ? throw new ArgumentException($"The ETag '{etag}' cannot name a blob file.")
            : etag;
    }

    private static string CheckCommit(string commit) => IsCommitSha(commit)
        ? commit
        : throw new ArgumentException($"'{commit}' is not a 40-digit commit sha.");

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitShaPattern();
}
