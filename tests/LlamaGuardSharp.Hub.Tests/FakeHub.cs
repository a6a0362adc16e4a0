using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlamaGuardSharp.Hub.Tests;

/// <summary>
/// An in-process Hugging Face Hub on a loopback port, answering the routes a download uses the way the real Hub does:
/// <list type="bullet">
/// <item><c>GET /api/models/{org}/{name}/revision/{rev}?blobs=true</c>: <c>sha</c> and <c>siblings</c> with
/// <c>rfilename</c>, <c>size</c>, <c>blobId</c> and, for LFS files, <c>lfs: {sha256, size, pointerSize}</c>;</item>
/// <item><c>HEAD|GET /{org}/{name}/resolve/{rev}/{path}</c>: <c>X-Repo-Commit</c>; regular files answered directly with
/// <c>ETag: "&lt;git blob sha1&gt;"</c>; LFS files with a 302 to the storage host plus <c>X-Linked-Etag:
/// "&lt;sha256&gt;"</c>, <c>X-Linked-Size</c> and the pointer's <c>ETag</c> (so a client that read <c>ETag</c> would name
/// the blob wrongly);</item>
/// <item><c>GET http://localhost:{port}/storage/{sha256}</c>: the storage host, a different host name than the Hub's
/// <c>127.0.0.1</c>, with <c>Range</c> support;</item>
/// <item>errors with the Hub's <c>X-Error-Code</c>/<c>X-Error-Message</c>: unknown repository 401 <c>RepoNotFound</c>,
/// unknown revision 404 <c>RevisionNotFound</c>, unknown file 404 <c>EntryNotFound</c>, gated repository 401 (no
/// token) or 403 (a token without access) <c>GatedRepo</c>.</item>
/// </list>
/// Faults are injected per test: throttling with <c>Retry-After</c>, a connection dropped mid-body, corrupt blob
/// bytes, a slow blob; every request is logged.
/// </summary>
public sealed class FakeHub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, FakeRepo> _repos = new(StringComparer.Ordinal);
    private int _throttleRemaining;
    private int _throttleStatus = 429;
    private int _throttleRetryAfter;
    private int _activeStorage;
    private int _maxActiveStorage;
    private long _bodyBytes;

    private FakeHub(WebApplication app)
    {
        _app = app;
    }

    /// <summary>The Hub's address (<c>http://127.0.0.1:{port}</c>).</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Every request, in arrival order.</summary>
    public ConcurrentQueue<LoggedRequest> Requests { get; } = new();

    /// <summary>Blobs (by sha256) whose first storage GET sends this many bytes and then drops the connection.</summary>
    public ConcurrentDictionary<string, long> DropOnceAfter { get; } = new();

    /// <summary>Blobs (by sha256) served with their first byte flipped.</summary>
    public ConcurrentDictionary<string, bool> Corrupt { get; } = new();

    /// <summary>LFS files (by sha256) whose HEAD answer carries this <c>X-Linked-Etag</c> instead of their sha256.</summary>
    public ConcurrentDictionary<string, string> LinkedEtag { get; } = new();

    /// <summary>Blobs (by sha256) served at this many bytes per second.</summary>
    public ConcurrentDictionary<string, int> BytesPerSecond { get; } = new();

    /// <summary>Body bytes sent for file contents (resolve GETs of regular files and storage GETs).</summary>
    public long BodyBytes => Interlocked.Read(ref _bodyBytes);

    /// <summary>The most storage downloads that ran at the same time.</summary>
    public int MaxConcurrentStorage => Volatile.Read(ref _maxActiveStorage);

    public static async Task<FakeHub> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var hub = new FakeHub(app);
        app.MapGet("/api/models/{org}/{name}/revision/{revision}", hub.RepoInfoAsync);
        app.MapGet("/api/models/{org}/{name}/tree/{revision}", hub.TreeAsync);
        app.MapMethods("/{org}/{name}/resolve/{revision}/{**path}", ["GET", "HEAD"], hub.ResolveAsync);
        app.MapGet("/storage/{sha}", hub.StorageAsync);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        hub.Endpoint = new Uri($"http://127.0.0.1:{address.Port}");
        return hub;
    }

    /// <summary>Adds (or replaces) a repository with <paramref name="files"/> at <paramref name="commit"/>, <c>main</c> pointing at it.</summary>
    public FakeRepo AddRepo(string repoId, string commit, IEnumerable<FakeFile> files, string? gatedToken = null)
    {
        var repo = new FakeRepo(repoId, gatedToken);
        repo.AddCommit(commit, files);
        repo.Refs["main"] = commit;
        _repos[repoId] = repo;
        return repo;
    }

    /// <summary>The next <paramref name="count"/> requests (any route) get <paramref name="status"/> with <c>Retry-After</c>.</summary>
    public void Throttle(int count, int retryAfterSeconds, int status = 429)
    {
        _throttleStatus = status;
        _throttleRetryAfter = retryAfterSeconds;
        Volatile.Write(ref _throttleRemaining, count);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private bool TryThrottle(HttpContext context)
    {
        while (true)
        {
            int left = Volatile.Read(ref _throttleRemaining);
            if (left <= 0)
            {
                return false;
            }
            if (Interlocked.CompareExchange(ref _throttleRemaining, left - 1, left) == left)
            {
                context.Response.StatusCode = _throttleStatus;
                context.Response.Headers.RetryAfter = _throttleRetryAfter.ToString();
                return true;
            }
        }
    }

    private void Log(HttpContext context) => Requests.Enqueue(new LoggedRequest(context.Request.Method, context.Request.Host.Host, context.Request.Path.Value ?? "",
        context.Request.Headers.Range.ToString() is { Length: > 0 } range ? range : null,
        context.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null, context.Response.StatusCode));

    private static Task ErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.Headers["X-Error-Code"] = code;
        context.Response.Headers["X-Error-Message"] = message;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsJsonAsync(new { error = message });
    }

    private async Task RepoInfoAsync(HttpContext context, string org, string name, string revision)
    {
        try
        {
            if (TryThrottle(context))
            {
                return;
            }
            if (!_repos.TryGetValue($"{org}/{name}", out var repo))
            {
                await ErrorAsync(context, 401, "RepoNotFound", $"Repository Not Found for url: {context.Request.Path}.");
                return;
            }
            if (repo.Resolve(revision) is not { } commit)
            {
                await ErrorAsync(context, 404, "RevisionNotFound", $"Invalid rev id: {revision}");
                return;
            }
            bool blobs = context.Request.Query["blobs"] == "true";
            var siblings = repo.Commits[commit].Values.OrderBy(f => f.Path, StringComparer.Ordinal).Select(f => blobs
                ? (object)new Dictionary<string, object?>
                {
                    ["rfilename"] = f.Path,
                    ["size"] = f.Content.LongLength,
                    ["blobId"] = f.Lfs ? f.PointerSha1 : f.GitSha1,
                    ["lfs"] = f.Lfs ? new { sha256 = f.Sha256, size = f.Content.LongLength, pointerSize = f.Pointer.Length } : null,
                }.Where(p => p.Value is not null).ToDictionary()
                : new { rfilename = f.Path });
            await context.Response.WriteAsJsonAsync(new { _id = "x", id = repo.Id, sha = commit, gated = repo.GatedToken is null ? (object)false : "manual", siblings });
        }
        finally
        {
            Log(context);
        }
    }

    /// <summary>
    /// <c>GET /api/models/{org}/{name}/tree/{rev}?recursive=true</c>, the listing newer huggingface_hub releases use
    /// (served so the layout comparison in docs/download.md can run them too): files with <c>oid</c>, <c>size</c>,
    /// <c>path</c> and <c>lfs</c>, and their folders, in one page.
    /// </summary>
    private async Task TreeAsync(HttpContext context, string org, string name, string revision)
    {
        try
        {
            if (!_repos.TryGetValue($"{org}/{name}", out var repo))
            {
                await ErrorAsync(context, 401, "RepoNotFound", $"Repository Not Found for url: {context.Request.Path}.");
                return;
            }
            if (repo.Resolve(revision) is not { } commit)
            {
                await ErrorAsync(context, 404, "RevisionNotFound", $"Invalid rev id: {revision}");
                return;
            }
            var files = repo.Commits[commit].Values.OrderBy(f => f.Path, StringComparer.Ordinal).ToArray();
            var folders = files.Select(f => Path.GetDirectoryName(f.Path)!.Replace('\\', '/')).Where(d => d.Length > 0).Distinct()
                .Select(d => (object)new { type = "directory", oid = "0000000000000000000000000000000000000000", size = 0, path = d });
            var entries = files.Select(f => f.Lfs
                ? (object)new { type = "file", oid = f.PointerSha1, size = f.Content.LongLength, path = f.Path, lfs = new { oid = f.Sha256, size = f.Content.LongLength, pointerSize = f.Pointer.Length } }
                : new { type = "file", oid = f.GitSha1, size = f.Content.LongLength, path = f.Path });
            await context.Response.WriteAsJsonAsync(folders.Concat(entries));
        }
        finally
        {
            Log(context);
        }
    }

    private async Task ResolveAsync(HttpContext context, string org, string name, string revision, string path)
    {
        try
        {
            if (TryThrottle(context))
            {
                return;
            }
            if (!_repos.TryGetValue($"{org}/{name}", out var repo))
            {
                await ErrorAsync(context, 401, "RepoNotFound", "Repository not found");
                return;
            }
            string? token = context.Request.Headers.Authorization.ToString() is { Length: > 7 } auth && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth[7..] : null;
            if (repo.GatedToken is { } allowed && token != allowed)
            {
                await (token is null
                    ? ErrorAsync(context, 401, "GatedRepo", $"Access to model {repo.Id} is restricted. You must have access to it and be authenticated to access it. Please log in.")
                    : ErrorAsync(context, 403, "GatedRepo", $"Access to model {repo.Id} is restricted and you are not in the authorized list. Visit https://huggingface.co/{repo.Id} to ask for access."));
                return;
            }
            if (repo.Resolve(revision) is not { } commit)
            {
                await ErrorAsync(context, 404, "RevisionNotFound", $"Invalid rev id: {revision}");
                return;
            }
            if (!repo.Commits[commit].TryGetValue(path, out var file))
            {
                await ErrorAsync(context, 404, "EntryNotFound", $"{path} does not exist on \"{revision}\"");
                return;
            }
            context.Response.Headers["X-Repo-Commit"] = commit;
            context.Response.Headers.AcceptRanges = "bytes";
            if (file.Lfs)
            {
                context.Response.StatusCode = 302;
                context.Response.Headers.ETag = $"\"{file.PointerSha1}\"";
                context.Response.Headers["X-Linked-Etag"] = $"\"{LinkedEtag.GetValueOrDefault(file.Sha256, file.Sha256)}\"";
                context.Response.Headers["X-Linked-Size"] = file.Content.LongLength.ToString();
                context.Response.Headers.Location = $"http://localhost:{Endpoint.Port}/storage/{file.Sha256}?X-Amz-Signature=fake";
                return;
            }
            context.Response.Headers.ETag = $"\"{file.GitSha1}\"";
            await ServeAsync(context, file.Content, dropAfter: null, bytesPerSecond: 0);
        }
        finally
        {
            Log(context);
        }
    }

    private async Task StorageAsync(HttpContext context, string sha)
    {
        int active = Interlocked.Increment(ref _activeStorage);
        try
        {
            int max;
            while (active > (max = Volatile.Read(ref _maxActiveStorage)) && Interlocked.CompareExchange(ref _maxActiveStorage, active, max) != max)
            {
            }
            if (TryThrottle(context))
            {
                return;
            }
            var file = _repos.Values.SelectMany(r => r.Commits.Values).SelectMany(c => c.Values).FirstOrDefault(f => f.Lfs && f.Sha256 == sha);
            if (file is null || context.Request.Host.Host != "localhost")
            {
                context.Response.StatusCode = 404;
                return;
            }
            byte[] content = file.Content;
            if (Corrupt.ContainsKey(sha))
            {
                content = (byte[])content.Clone();
                content[0] ^= 0xFF;
            }
            context.Response.Headers.ETag = $"\"{sha}\"";
            await ServeAsync(context, content, DropOnceAfter.TryRemove(sha, out long drop) ? drop : null, BytesPerSecond.TryGetValue(sha, out int rate) ? rate : 0);
        }
        finally
        {
            Interlocked.Decrement(ref _activeStorage);
            Log(context);
        }
    }

    /// <summary>The body, honouring <c>Range: bytes=N-</c> (206 + <c>Content-Range</c>, or 416 past the end).</summary>
    private async Task ServeAsync(HttpContext context, byte[] content, long? dropAfter, int bytesPerSecond)
    {
        long start = 0;
        string range = context.Request.Headers.Range.ToString();
        if (range.StartsWith("bytes=", StringComparison.Ordinal) && range.EndsWith('-') && long.TryParse(range[6..^1], out long from))
        {
            if (from >= content.LongLength)
            {
                context.Response.StatusCode = 416;
                context.Response.Headers.ContentRange = $"bytes */{content.LongLength}";
                return;
            }
            start = from;
            context.Response.StatusCode = 206;
            context.Response.Headers.ContentRange = $"bytes {start}-{content.LongLength - 1}/{content.LongLength}";
        }
        context.Response.ContentLength = content.LongLength - start;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }
        const int Chunk = 64 * 1024;
        long sent = 0;
        for (long offset = start; offset < content.LongLength; offset += Chunk)
        {
            int count = (int)Math.Min(Chunk, content.LongLength - offset);
            if (dropAfter is { } limit && sent + count > limit)
            {
                count = (int)(limit - sent);
                await context.Response.Body.WriteAsync(content.AsMemory((int)offset, count));
                await context.Response.Body.FlushAsync();
                Interlocked.Add(ref _bodyBytes, count);
                context.Abort();
                return;
            }
            await context.Response.Body.WriteAsync(content.AsMemory((int)offset, count), context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            sent += count;
            Interlocked.Add(ref _bodyBytes, count);
            if (bytesPerSecond > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(count / (double)bytesPerSecond), context.RequestAborted);
            }
        }
    }
}

/// <summary>One request the fake Hub answered.</summary>
public sealed record LoggedRequest(string Method, string Host, string Path, string? Range, string? Authorization, int Status);

/// <summary>A repository of the fake Hub: commits, branches, and the one token allowed if it is gated.</summary>
public sealed class FakeRepo(string id, string? gatedToken)
{
    public string Id { get; } = id;

    public string? GatedToken { get; } = gatedToken;

    public ConcurrentDictionary<string, string> Refs { get; } = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, Dictionary<string, FakeFile>> Commits { get; } = new(StringComparer.Ordinal);

    public void AddCommit(string commit, IEnumerable<FakeFile> files) => Commits[commit] = files.ToDictionary(f => f.Path, StringComparer.Ordinal);

    public string? Resolve(string revision) => Refs.TryGetValue(revision, out var commit) ? commit : Commits.ContainsKey(revision) ? revision : null;
}

/// <summary>A file of a fake repository; LFS files are served through the storage host.</summary>
public sealed class FakeFile
{
    public FakeFile(string path, byte[] content, bool lfs)
    {
        Path = path;
        Content = content;
        Lfs = lfs;
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(content));
        GitSha1 = GitBlobSha1(content);
        Pointer = Encoding.ASCII.GetBytes($"version https://git-lfs.github.com/spec/v1\noid sha256:{Sha256}\nsize {content.Length}\n");
        PointerSha1 = GitBlobSha1(Pointer);
    }

    public string Path { get; }

    public byte[] Content { get; }

    public bool Lfs { get; }

    public string Sha256 { get; }

    /// <summary>git's object id of the contents: sha1 of <c>blob {size}\0{contents}</c> (the ETag of a regular file).</summary>
    public string GitSha1 { get; }

    public byte[] Pointer { get; }

    public string PointerSha1 { get; }

    /// <summary>The name its blob gets in the cache: the sha256 for LFS files, the git sha1 otherwise.</summary>
    public string Etag => Lfs ? Sha256 : GitSha1;

    private static string GitBlobSha1(byte[] content) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {content.Length}\0"), .. content]));
}
