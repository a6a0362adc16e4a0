using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Hub;

/// <summary>
/// Downloads a repository snapshot the way huggingface_hub's <c>snapshot_download</c> does, into the same cache
/// (<see cref="HubCache"/>) or into a plain folder:
/// <list type="number">
/// <item>one <c>GET /api/models/{repo}/revision/{rev}?blobs=true</c> resolves the revision to a commit and lists the
/// files, filtered by <see cref="HubDownloadRequest.Files"/>;</item>
/// <item>files already in <c>snapshots/{commit}</c> are done without any request (a second run transfers nothing);</item>
/// <item>the free disk space is checked against what is left to download;</item>
/// <item>the other files, at most <see cref="HubDownloadRequest.MaxParallel"/> at a time: a HEAD for the ETag, size and
/// location; an existing blob is only linked; otherwise the blob is downloaded into <c>blobs/{etag}.incomplete</c>
/// (under an exclusive lock, resumed with <c>Range</c> from what an earlier run or a dropped connection left),
/// verified — LFS files against their sha256, others against their size — renamed to <c>blobs/{etag}</c> and linked
/// from the snapshot;</item>
/// <item><c>refs/{revision}</c> is written once every file is there.</item>
/// </list>
/// A verification failure deletes the partial blob and throws <see cref="HubErrorKind.Integrity"/>.
/// </summary>
public sealed class HubDownloader
{
    private const int BufferSize = 1 << 20;
    private readonly HubClient _client;

    /// <summary>A downloader over <paramref name="client"/> (whose settings give the default cache).</summary>
    public HubDownloader(HubClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
    }

    /// <summary>Free bytes on the volume holding a folder (tests replace it).</summary>
    internal Func<string, long> FreeSpace { get; init; } = DefaultFreeSpace;

    /// <summary>Downloads (or completes, or confirms) a snapshot; see the class summary.</summary>
    public async Task<HubDownloadResult> DownloadAsync(HubDownloadRequest request, IProgress<HubDownloadProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.MaxParallel, 1);
        if (request.CacheDirectory is not null && request.LocalDirectory is not null)
        {
            throw new ArgumentException("Give either a cache folder or a local folder, not both.");
        }
        if (_client.Settings.Offline)
        {
            throw new HubException(HubErrorKind.Offline,
                $"Offline mode is on (HF_HUB_OFFLINE): {request.RepoId} cannot be downloaded; unset HF_HUB_OFFLINE or copy the model folder here.");
        }
        var watch = Stopwatch.StartNew();
        var info = await _client.GetRepoInfoAsync(request.RepoId, request.Revision, cancellationToken).ConfigureAwait(false);
        var selected = info.Files.Where(f => request.Files.Matches(f.Path)).ToArray();
        if (selected.Length == 0)
        {
            throw new ArgumentException($"No file of {request.RepoId} at '{request.Revision}' matches --include {string.Join(' ', request.Files.Include)}"
                + (request.Files.Exclude.Count > 0 ? $" --exclude {string.Join(' ', request.Files.Exclude)}" : "")
                + $" ({info.Files.Count} files in the repository).");
        }
        var target = request.LocalDirectory is { } local
            ? (ITarget)new LocalFolderTarget(Path.GetFullPath(local))
            : new CacheTarget(new HubCache(request.CacheDirectory ?? _client.Settings.CacheDirectory, request.RepoId));

        var totals = new Totals(selected.Sum(f => f.Size ?? 0));
        var results = new HubDownloadedFile?[selected.Length];
        var pending = new List<int>();
        for (int i = 0; i < selected.Length; i++)
        {
            if (target.TryGetPresent(info.Commit, selected[i]) is { } present)
            {
                results[i] = present;
                totals.Add(present.Size);
                progress?.Report(new HubDownloadProgress(present.Path, present.Size, present.Size, HubFileState.Done, totals.Size, totals.Done));
            }
            else
            {
                pending.Add(i);
                progress?.Report(new HubDownloadProgress(selected[i].Path, selected[i].Size ?? 0, 0, HubFileState.Queued, totals.Size, totals.Done));
            }
        }

        if (pending.Count > 0)
        {
            CheckDiskSpace(target, pending.Select(i => selected[i]));
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = request.MaxParallel, CancellationToken = cancellationToken },
                async (i, ct) => results[i] = await FetchFileAsync(request, info.Commit, selected[i], target, totals, progress, ct).ConfigureAwait(false))
                .ConfigureAwait(false);
        }
        target.Complete(request.Revision, info.Commit);
        return new HubDownloadResult(request.RepoId, request.Revision, info.Commit, target.Folder(info.Commit), [.. results.Select(r => r!)], watch.Elapsed);
    }

    private async Task<HubDownloadedFile> FetchFileAsync(HubDownloadRequest request, string commit, HubRepoFile file, ITarget target, Totals totals,
        IProgress<HubDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        var metadata = await _client.GetFileMetadataAsync(request.RepoId, commit, file.Path, cancellationToken).ConfigureAwait(false);
        if (metadata.Commit is { } served && served != commit)
        {
            throw new HubException(HubErrorKind.Protocol, $"The Hub served {file.Path} from commit {served} when {commit} was asked for.");
        }
        // The blob's name is the ETag; for an LFS file it must be the sha256 the repository listing gives (the contents
        // are checked against that sha256), else a verified blob would be stored under another file's name.
        string? sha256 = file.LfsSha256;
        if (sha256 is not null && !string.Equals(metadata.Etag, sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new HubException(HubErrorKind.Protocol,
                $"The Hub's ETag for {file.Path} at {commit} is {metadata.Etag}, but the repository listing gives its sha256 as {sha256}; nothing was downloaded.");
        }
        if (target.TryLinkExisting(commit, file, metadata) is { } linked)
        {
            totals.Add(linked.Size);
            progress?.Report(new HubDownloadProgress(file.Path, linked.Size, linked.Size, HubFileState.Done, totals.Size, totals.Done));
            return linked;
        }
        await using var fileLock = await AcquireLockAsync(target.LockPath(file, metadata), cancellationToken).ConfigureAwait(false);
        if (target.TryLinkExisting(commit, file, metadata) is { } linkedMeanwhile)
        {
            totals.Add(linkedMeanwhile.Size);
            progress?.Report(new HubDownloadProgress(file.Path, linkedMeanwhile.Size, linkedMeanwhile.Size, HubFileState.Done, totals.Size, totals.Done));
            return linkedMeanwhile;
        }
        string incomplete = target.IncompletePath(file, metadata);
        var (transferred, resumed) = await TransferAsync(request, commit, file, metadata, sha256, incomplete, totals, progress, cancellationToken).ConfigureAwait(false);
        string localPath = target.Commit(commit, file, metadata, incomplete);
        progress?.Report(new HubDownloadProgress(file.Path, metadata.Size, metadata.Size, HubFileState.Done, totals.Size, totals.Done));
        return new HubDownloadedFile(file.Path, metadata.Size, transferred, resumed ? HubFileOutcome.Resumed : HubFileOutcome.Downloaded, localPath);
    }

    /// <summary>
    /// Fills <paramref name="incomplete"/> up to the file's size, continuing from whatever it holds, and verifies it.
    /// A dropped connection is resumed from the bytes on disk (each attempt that brings no byte counts towards the retry
    /// limit); a server that ignores <c>Range</c> restarts the file.
    /// </summary>
    private async Task<(long Transferred, bool Resumed)> TransferAsync(HubDownloadRequest request, string commit, HubRepoFile file, HubFileMetadata metadata,
        string? sha256, string incomplete, Totals totals, IProgress<HubDownloadProgress>? progress, CancellationToken cancellationToken)
    {
        long size = metadata.Size;
        Directory.CreateDirectory(Path.GetDirectoryName(incomplete)!);
        await using var stream = new FileStream(incomplete, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1 << 16, useAsync: true);
        long offset = stream.Length;
        if (offset > size)
        {
            stream.SetLength(0);
            offset = 0;
        }
        bool resumed = offset > 0;
        var hash = sha256 is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        try
        {
            if (hash is not null && offset > 0)
            {
                await HashExistingAsync(stream, hash, offset, cancellationToken).ConfigureAwait(false);
            }
            stream.Position = offset;
            totals.Add(offset);
            long transferred = 0;
            int fruitlessAttempts = 0;
            var buffer = new byte[BufferSize];
            while (offset < size)
            {
                long before = offset;
                try
                {
                    using var response = await _client.OpenDownloadAsync(metadata.Location, offset, request.RepoId, commit, file.Path, cancellationToken).ConfigureAwait(false);
                    if ((int)response.StatusCode == 416 || (offset > 0 && (int)response.StatusCode == 200))
                    {
                        // The server will not continue this partial file: start it again.
                        totals.Add(-offset);
                        offset = 0;
                        stream.SetLength(0);
                        stream.Position = 0;
                        hash?.Dispose();
                        hash = sha256 is null ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                        resumed = false;
                        if ((int)response.StatusCode == 416)
                        {
                            continue;
                        }
                    }
                    await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    while (true)
                    {
                        using var readTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                        readTimeout.CancelAfter(_client.Options.ReadTimeout);
                        int read = await body.ReadAsync(buffer, readTimeout.Token).ConfigureAwait(false);
                        if (read == 0)
                        {
                            break;
                        }
                        if (offset + read > size)
                        {
                            throw Corrupt(file, incomplete, $"the server sent more than the {size} bytes the Hub announced");
                        }
                        try
                        {
                            await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                        }
                        catch (IOException e)
                        {
                            // Not a connection failure: retrying would not help.
                            throw new HubException(HubErrorKind.LocalWrite, $"Writing {incomplete} failed: {e.Message}", null, e);
                        }
                        hash?.AppendData(buffer, 0, read);
                        offset += read;
                        transferred += read;
                        totals.Add(read);
                        progress?.Report(new HubDownloadProgress(file.Path, size, offset, HubFileState.Transferring, totals.Size, totals.Done));
                    }
                    if (offset < size)
                    {
                        throw new IOException($"the connection closed after {offset} of {size} bytes");
                    }
                }
                catch (Exception e) when (HubClient.IsConnectionFailure(e, cancellationToken))
                {
                    await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                    fruitlessAttempts = offset > before ? 1 : fruitlessAttempts + 1;
                    if (fruitlessAttempts > _client.Options.MaxRetries)
                    {
                        throw new HubException(HubErrorKind.Network,
                            $"Downloading {file.Path} of {request.RepoId} failed after {fruitlessAttempts} attempts ({e.Message}); the {offset} bytes received are kept in "
                            + $"{incomplete} and the next run resumes from them.", null, e);
                    }
                    await Task.Delay(_client.BackoffDelay(fruitlessAttempts), cancellationToken).ConfigureAwait(false);
                }
            }
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (hash is not null)
            {
                string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw Corrupt(file, incomplete, $"its sha256 is {actual}, the Hub says {sha256}");
                }
            }
            return (transferred, resumed);
        }
        catch (HubException e) when (e.Kind == HubErrorKind.Integrity)
        {
            stream.SetLength(0);
            await stream.DisposeAsync().ConfigureAwait(false);
            File.Delete(incomplete);
            throw;
        }
        finally
        {
            hash?.Dispose();
        }
    }

    private static HubException Corrupt(HubRepoFile file, string incomplete, string why) =>
        new(HubErrorKind.Integrity, $"The download of {file.Path} is corrupt: {why}. The partial file {incomplete} was deleted; run the download again.");

    private static async Task HashExistingAsync(FileStream stream, IncrementalHash hash, long length, CancellationToken cancellationToken)
    {
        var buffer = new byte[BufferSize];
        stream.Position = 0;
        long left = length;
        while (left > 0)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException($"{stream.Name} shrank while it was being read.");
            }
            hash.AppendData(buffer, 0, read);
            left -= read;
        }
    }

    /// <summary>An exclusive lock file (held open with no sharing; the OS releases it if the process dies).</summary>
    private static async Task<FileStream> AcquireLockAsync(string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                // another process (or another download of the same blob) holds it: wait for it
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void CheckDiskSpace(ITarget target, IEnumerable<HubRepoFile> files)
    {
        long needed = files.Sum(f => Math.Max(0, (f.Size ?? 0) - target.PartialLength(f)));
        string folder = target.Root;
        while (!Directory.Exists(folder) && Path.GetDirectoryName(folder) is { } parent)
        {
            folder = parent;
        }
        long free = FreeSpace(folder);
        if (free >= 0 && free < needed)
        {
            throw new HubException(HubErrorKind.DiskSpace,
                $"Not enough disk space in {target.Root}: {FormatBytes(needed)} left to download, {FormatBytes(free)} free. Free some space or choose another --cache-dir/--local-dir.");
        }
    }

    private static long DefaultFreeSpace(string folder)
    {
        try
        {
            return new DriveInfo(folder).AvailableFreeSpace;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            return -1; // unknown: the write itself will fail if space runs out
        }
    }

    internal static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:F1} KiB",
        _ => $"{bytes} B",
    };

    /// <summary>Thread-safe running totals for progress reports.</summary>
    private sealed class Totals(long size)
    {
        private long _done;

        public long Size { get; } = size;

        public long Done => Interlocked.Read(ref _done);

        public void Add(long bytes) => Interlocked.Add(ref _done, bytes);
    }

    /// <summary>Where downloaded files go: the hub cache, or a plain folder.</summary>
    private interface ITarget
    {
        string Root { get; }

        string Folder(string commit);

        HubDownloadedFile? TryGetPresent(string commit, HubRepoFile file);

        long PartialLength(HubRepoFile file);

        HubDownloadedFile? TryLinkExisting(string commit, HubRepoFile file, HubFileMetadata metadata);

        string LockPath(HubRepoFile file, HubFileMetadata metadata);

        string IncompletePath(HubRepoFile file, HubFileMetadata metadata);

        /// <summary>Moves a verified download into place; returns the file's local path.</summary>
        string Commit(string commit, HubRepoFile file, HubFileMetadata metadata, string incomplete);

        void Complete(string revision, string commit);
    }

    private sealed class CacheTarget(HubCache cache) : ITarget
    {
        public string Root => cache.RepoFolder;

        public string Folder(string commit) => cache.SnapshotFolder(commit);

        public HubDownloadedFile? TryGetPresent(string commit, HubRepoFile file) => HubCache.ResolveFile(cache.SnapshotFile(commit, file.Path)) is { } present
            && (file.Size is null || file.Size == present.Length)
            ? new HubDownloadedFile(file.Path, present.Length, 0, HubFileOutcome.AlreadyPresent, cache.SnapshotFile(commit, file.Path))
            : null;

        public long PartialLength(HubRepoFile file) => file.LfsSha256 is { } sha && File.Exists(cache.IncompletePath(sha)) ? new FileInfo(cache.IncompletePath(sha)).Length : 0;

        public HubDownloadedFile? TryLinkExisting(string commit, HubRepoFile file, HubFileMetadata metadata)
        {
            var blob = new FileInfo(cache.BlobPath(metadata.Etag));
            if (!blob.Exists || blob.Length != metadata.Size)
            {
                return null;
            }
            cache.LinkSnapshotFile(commit, file.Path, metadata.Etag);
            return new HubDownloadedFile(file.Path, metadata.Size, 0, HubFileOutcome.LinkedExistingBlob, cache.SnapshotFile(commit, file.Path));
        }

        public string LockPath(HubRepoFile file, HubFileMetadata metadata) => cache.LockPath(metadata.Etag);

        public string IncompletePath(HubRepoFile file, HubFileMetadata metadata) => cache.IncompletePath(metadata.Etag);

        public string Commit(string commit, HubRepoFile file, HubFileMetadata metadata, string incomplete)
        {
            File.Move(incomplete, cache.BlobPath(metadata.Etag), overwrite: true);
            cache.LinkSnapshotFile(commit, file.Path, metadata.Etag);
            return cache.SnapshotFile(commit, file.Path);
        }

        public void Complete(string revision, string commit) => cache.WriteRef(revision, commit);
    }

    /// <summary>
    /// Plain files under a folder, with huggingface_hub's bookkeeping:
    /// <c>.cache/huggingface/download/{path}.metadata</c> holds <c>{commit}\n{etag}\n{unix time}\n</c>, so a file whose
    /// metadata names this commit is not requested again.
    /// </summary>
    private sealed class LocalFolderTarget(string folder) : ITarget
    {
        private string DownloadFolder => Path.Combine(folder, ".cache", "huggingface", "download");

        public string Root => folder;

        public string Folder(string commit) => folder;

        private string FilePath(HubRepoFile file) => Path.Combine(folder, RepoPaths.ToLocal(file.Path));

        private string MetadataPath(HubRepoFile file) => Path.Combine(DownloadFolder, RepoPaths.ToLocal(file.Path) + ".metadata");

        private (string Commit, string Etag)? ReadMetadata(HubRepoFile file)
        {
            string path = MetadataPath(file);
            if (!File.Exists(path))
            {
                return null;
            }
            var lines = BoundedFile.ReadAllText(path, BoundedFile.MaxRefBytes, "download metadata file").Split('\n');
            return lines.Length >= 2 ? (lines[0].Trim(), lines[1].Trim()) : null;
        }

        public HubDownloadedFile? TryGetPresent(string commit, HubRepoFile file)
        {
            var local = new FileInfo(FilePath(file));
            return local.Exists && ReadMetadata(file)?.Commit == commit && (file.Size is null || file.Size == local.Length)
                ? new HubDownloadedFile(file.Path, local.Length, 0, HubFileOutcome.AlreadyPresent, local.FullName)
                : null;
        }

        public long PartialLength(HubRepoFile file) => file.LfsSha256 is { } sha && File.Exists(IncompletePath(file, sha)) ? new FileInfo(IncompletePath(file, sha)).Length : 0;

        public HubDownloadedFile? TryLinkExisting(string commit, HubRepoFile file, HubFileMetadata metadata)
        {
            // The same contents at another commit: only the metadata needs the new commit.
            var local = new FileInfo(FilePath(file));
            if (!local.Exists || local.Length != metadata.Size || ReadMetadata(file)?.Etag != metadata.Etag)
            {
                return null;
            }
            WriteMetadata(file, commit, metadata.Etag);
            return new HubDownloadedFile(file.Path, metadata.Size, 0, HubFileOutcome.LinkedExistingBlob, local.FullName);
        }

        public string LockPath(HubRepoFile file, HubFileMetadata metadata) => Path.ChangeExtension(MetadataPath(file), ".lock");

        public string IncompletePath(HubRepoFile file, HubFileMetadata metadata) => IncompletePath(file, metadata.Etag);

        private string IncompletePath(HubRepoFile file, string etag) => Path.Combine(DownloadFolder, RepoPaths.ToLocal(file.Path) + "." + etag + ".incomplete");

        public string Commit(string commit, HubRepoFile file, HubFileMetadata metadata, string incomplete)
        {
            string path = FilePath(file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Move(incomplete, path, overwrite: true);
            WriteMetadata(file, commit, metadata.Etag);
            return path;
        }

        private void WriteMetadata(HubRepoFile file, string commit, string etag)
        {
            string path = MetadataPath(file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string gitignore = Path.Combine(folder, ".cache", "huggingface", ".gitignore");
            if (!File.Exists(gitignore))
            {
                File.WriteAllText(gitignore, "*");
            }
            // Python's time.time() as str() writes it: the shortest round-trip form, which "R" also gives.
            double now = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
            File.WriteAllText(path, $"{commit}\n{etag}\n{now.ToString("R", CultureInfo.InvariantCulture)}\n");
        }

        public void Complete(string revision, string commit)
        {
        }
    }
}
