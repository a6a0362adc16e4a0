using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace LlamaGuardSharp.Hub;

/// <summary>
/// The Hugging Face Hub's download protocol over <see cref="HttpClient"/>:
/// <list type="bullet">
/// <item><c>GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true</c>: the commit sha and every file with its size
/// and, for LFS files, sha256;</item>
/// <item><c>HEAD {endpoint}/{repo}/resolve/{rev}/{file}</c> with <c>Accept-Encoding: identity</c>: <c>X-Repo-Commit</c>,
/// <c>X-Linked-Etag</c>/<c>ETag</c>, <c>X-Linked-Size</c>/<c>Content-Length</c>, and for LFS files a redirect to the
/// storage host (relative redirects — renamed repositories — are followed, the storage redirect is not);</item>
/// <item><c>GET</c> of that location, with <c>Range: bytes=N-</c> to resume; redirects followed, the token sent only to
/// the Hub's own host.</item>
/// </list>
/// 429 and 5xx answers and failed connections are retried with exponential backoff, honouring <c>Retry-After</c>;
/// 401/403/404 become a <see cref="HubException"/> that says what to do (the Hub's <c>X-Error-Code</c> —
/// <c>GatedRepo</c>, <c>RepoNotFound</c>, <c>RevisionNotFound</c>, <c>EntryNotFound</c> — picks the message).
/// </summary>
public sealed class HubClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>A client for <paramref name="settings"/>' endpoint and token.</summary>
    /// <param name="settings">Endpoint and token (offline mode is the caller's to check).</param>
    /// <param name="options">Retries and timeouts (default <see cref="HubClientOptions.Default"/>).</param>
    /// <param name="handler">The HTTP handler to use (it must not follow redirects itself); default a
    /// <see cref="SocketsHttpHandler"/>, which this client then owns.</param>
    public HubClient(HubSettings settings, HubClientOptions? options = null, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
        Options = options ?? HubClientOptions.Default;
        _ownsHttp = handler is null;
        handler ??= new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = Options.RequestTimeout,
        };
        _http = new HttpClient(handler, disposeHandler: _ownsHttp) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Endpoint and token.</summary>
    public HubSettings Settings { get; }

    /// <summary>Retries and timeouts.</summary>
    public HubClientOptions Options { get; }

    /// <summary>The repository at <paramref name="revision"/> (a branch, tag or commit): its commit sha and files.</summary>
    public async Task<HubRepoInfo> GetRepoInfoAsync(RepoId repoId, string revision, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repoId);
        ArgumentException.ThrowIfNullOrEmpty(revision);
        var uri = new Uri($"{Settings.BaseAddress}/api/models/{repoId}/revision/{Uri.EscapeDataString(revision)}?blobs=true");
        var context = new RequestContext(repoId, revision, null);
        using var response = await SendAsync(HttpMethod.Get, uri, null, followRedirects: RedirectPolicy.All, context, cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var json = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
            return ParseRepoInfo(repoId, json.RootElement);
        }
        catch (JsonException e)
        {
            throw new HubException(HubErrorKind.Protocol, $"The Hub's description of {repoId} at '{revision}' ({uri}) is not valid JSON: {e.Message}", null, e);
        }
    }

    /// <summary>What the Hub says about one file: its ETag (the blob name), size, commit and download location.</summary>
    public async Task<HubFileMetadata> GetFileMetadataAsync(RepoId repoId, string revision, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repoId);
        var uri = ResolveUri(repoId, revision, path);
        using var response = await SendAsync(HttpMethod.Head, uri, null, RedirectPolicy.RelativeOnly, new RequestContext(repoId, revision, path), cancellationToken).ConfigureAwait(false);
        string? etag = NormalizeEtag(Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.ToString() ?? Header(response, "ETag"));
        bool redirect = IsRedirect(response.StatusCode);
        long? size = ParseLong(Header(response, "X-Linked-Size")) ?? (redirect ? null : response.Content.Headers.ContentLength);
        if (etag is null || size is null)
        {
            throw new HubException(HubErrorKind.Protocol,
                $"The Hub's answer for {path} in {repoId} has no {(etag is null ? "ETag" : "size")} header (a proxy in between may strip it).", response.StatusCode);
        }
        var location = redirect && response.Headers.Location is { } target ? new Uri(response.RequestMessage!.RequestUri!, target) : response.RequestMessage!.RequestUri!;
        return new HubFileMetadata(etag, size.Value, Header(response, "X-Repo-Commit"), location);
    }

    /// <summary><c>{endpoint}/{repo}/resolve/{revision}/{path}</c>, each part escaped.</summary>
    private Uri ResolveUri(RepoId repoId, string revision, string path)
    {
        ArgumentNullException.ThrowIfNull(repoId);
        ArgumentException.ThrowIfNullOrEmpty(revision);
        RepoPaths.ToLocal(path);
        string escapedPath = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
        return new Uri($"{Settings.BaseAddress}/{repoId}/resolve/{Uri.EscapeDataString(revision)}/{escapedPath}");
    }

    /// <summary>
    /// Starts downloading <paramref name="location"/> from byte <paramref name="offset"/> (a <c>Range</c> request when
    /// it is not 0). The caller reads and disposes the answer: 206 when the range was honoured, 200 when the whole file
    /// comes instead, 416 when the offset is at or past the end.
    /// </summary>
    public Task<HttpResponseMessage> OpenDownloadAsync(Uri location, long offset, RepoId repoId, string revision, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return SendAsync(HttpMethod.Get, location, offset > 0 ? offset : null, RedirectPolicy.All, new RequestContext(repoId, revision, path), cancellationToken);
    }

    /// <summary>The backoff before retry number <paramref name="attempt"/> (1-based): doubling from the initial delay, ±20 % jitter.</summary>
    public TimeSpan BackoffDelay(int attempt)
    {
        double seconds = Math.Min(Options.MaxRetryDelay.TotalSeconds, Options.InitialRetryDelay.TotalSeconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromSeconds(seconds * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }

    /// <summary>huggingface_hub's ETag normalisation: a leading <c>W/</c> and the surrounding quotes are removed.</summary>
    private static string? NormalizeEtag(string? etag)
    {
        if (etag is null)
        {
            return null;
        }
        if (etag.StartsWith("W/", StringComparison.Ordinal))
        {
            etag = etag[2..];
        }
        etag = etag.Trim('"');
        return etag.Length == 0 ? null : etag;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _http.Dispose();
    }

    private enum RedirectPolicy { All, RelativeOnly }

    private sealed record RequestContext(RepoId RepoId, string Revision, string? Path);

    /// <summary>
    /// Sends one request, following redirects by the policy, retrying 429/5xx/connection failures. Returns a 2xx answer
    /// (or a redirect the policy does not follow, or 416 for a range request); any other status throws.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri uri, long? rangeFrom, RedirectPolicy followRedirects, RequestContext context,
        CancellationToken cancellationToken)
    {
        for (int attempt = 0; ; attempt++)
        {
            TimeSpan delay;
            string failure;
            HttpStatusCode? status = null;
            try
            {
                var response = await SendFollowingRedirectsAsync(method, uri, rangeFrom, followRedirects, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode || (IsRedirect(response.StatusCode) && followRedirects == RedirectPolicy.RelativeOnly)
                    || (rangeFrom is not null && response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable))
                {
                    return response;
                }
                using (response)
                {
                    status = response.StatusCode;
                    if (status != HttpStatusCode.TooManyRequests && (int)status < 500)
                    {
                        throw await MapErrorAsync(response, context, cancellationToken).ConfigureAwait(false);
                    }
                    failure = $"{(int)status} {response.ReasonPhrase}";
                    var retryAfter = RetryAfter(response);
                    if (retryAfter > Options.MaxRetryAfter)
                    {
                        throw new HubException(status == HttpStatusCode.TooManyRequests ? HubErrorKind.RateLimited : HubErrorKind.Server,
                            $"The Hub answered {failure} for {Describe(context)} and asks to retry after {retryAfter.Value.TotalSeconds:F0} s; try again later.", status);
                    }
                    delay = retryAfter ?? BackoffDelay(attempt + 1);
                }
            }
            catch (Exception e) when (IsConnectionFailure(e, cancellationToken))
            {
                failure = e.Message;
                delay = BackoffDelay(attempt + 1);
                if (attempt >= Options.MaxRetries)
                {
                    throw new HubException(HubErrorKind.Network, $"Could not reach the Hub for {Describe(context)} after {attempt + 1} attempts: {failure}", null, e);
                }
            }
            if (attempt >= Options.MaxRetries)
            {
                throw new HubException(status == HttpStatusCode.TooManyRequests ? HubErrorKind.RateLimited : HubErrorKind.Server,
                    $"The Hub still answered {failure} for {Describe(context)} after {attempt + 1} attempts; try again later.", status);
            }
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>True for a failure worth retrying: a refused, reset or timed-out connection (not the caller's cancellation).</summary>
    internal static bool IsConnectionFailure(Exception e, CancellationToken cancellationToken) =>
        e is HttpRequestException or IOException and not HubException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(HttpMethod method, Uri uri, long? rangeFrom, RedirectPolicy policy, CancellationToken cancellationToken)
    {
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, uri);
            request.Headers.UserAgent.ParseAdd(Options.UserAgent);
            request.Headers.AcceptEncoding.ParseAdd("identity");
            // The token goes to the Hub only, never to the storage host a download is redirected to.
            if (Settings.Token is { } token && IsSameOrigin(uri, Settings.Endpoint))
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            if (rangeFrom is { } from)
            {
                request.Headers.Range = new RangeHeaderValue(from, null);
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(Options.RequestTimeout);
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (!IsRedirect(response.StatusCode) || response.Headers.Location is not { } location)
            {
                return response;
            }
            if (policy == RedirectPolicy.RelativeOnly && location.IsAbsoluteUri)
            {
                return response;
            }
            response.Dispose();
            if (hop >= 10)
            {
                throw new HubException(HubErrorKind.Protocol, $"More than 10 redirects from {uri}.");
            }
            uri = new Uri(uri, location);
        }
    }

    private async Task<HubException> MapErrorAsync(HttpResponseMessage response, RequestContext context, CancellationToken cancellationToken)
    {
        var status = response.StatusCode;
        string? code = Header(response, "X-Error-Code");
        string? serverMessage = Header(response, "X-Error-Message");
        if (serverMessage is null && response.RequestMessage?.Method != HttpMethod.Head)
        {
            try
            {
                string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                using var json = JsonDocument.Parse(body);
                if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
                {
                    serverMessage = error.GetString();
                }
            }
            catch (Exception e) when (e is JsonException or HttpRequestException or IOException)
            {
                // no readable error body: the status and X-Error-Code still say enough
            }
        }
        string said = serverMessage is null ? "" : $" (the Hub says: {serverMessage})";
        string repoPage = $"{Settings.BaseAddress}/{context.RepoId}";
        bool hasToken = Settings.Token is not null;
        if (code == "GatedRepo" || (status == HttpStatusCode.Forbidden && code is null or "GatedRepo"))
        {
            return new HubException(HubErrorKind.Gated,
                $"{context.RepoId} is a gated repository and {(hasToken ? "the token given has not been granted access" : "no access token was given")} "
                + $"({(int)status}): accept the licence on {repoPage} while logged in, then set HF_TOKEN (or pass --token) to an access token "
                + $"of that account (create one at https://huggingface.co/settings/tokens){said}.", status);
        }
        if (code == "RevisionNotFound")
        {
            return new HubException(HubErrorKind.RevisionNotFound, $"Revision '{context.Revision}' was not found in {context.RepoId} ({(int)status}){said}.", status);
        }
        if (code == "EntryNotFound" || (status == HttpStatusCode.NotFound && code is null && context.Path is not null))
        {
            return new HubException(HubErrorKind.EntryNotFound,
                $"{context.Path} was not found in {context.RepoId} at revision '{context.Revision}' ({(int)status}){said}.", status);
        }
        if (code == "RepoNotFound" || status == HttpStatusCode.NotFound || (status == HttpStatusCode.Unauthorized && !hasToken))
        {
            return new HubException(HubErrorKind.RepositoryNotFound,
                $"Repository {context.RepoId} was not found on {Settings.BaseAddress} ({(int)status})"
                + (hasToken ? "" : "; if it is private or gated, set HF_TOKEN to an access token of an account that can see it") + $"{said}.", status);
        }
        if (status == HttpStatusCode.Unauthorized)
        {
            return new HubException(HubErrorKind.Unauthorized,
                $"The Hub rejected the access token for {Describe(context)} (401): check HF_TOKEN, --token or $HF_HOME/token{said}.", status);
        }
        return new HubException(HubErrorKind.Server, $"The Hub answered {(int)status} {response.ReasonPhrase} for {Describe(context)}{said}.", status);
    }

    private static string Describe(RequestContext context) => context.Path is null
        ? $"{context.RepoId} at '{context.Revision}'"
        : $"{context.Path} of {context.RepoId} at '{context.Revision}'";

    private static HubRepoInfo ParseRepoInfo(RepoId repoId, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("sha", out var sha) || sha.ValueKind != JsonValueKind.String
            || !HubCache.IsCommitSha(sha.GetString()!))
        {
            throw new HubException(HubErrorKind.Protocol, $"The Hub's description of {repoId} has no 40-digit commit sha.");
        }
        var files = new List<HubRepoFile>();
        if (root.TryGetProperty("siblings", out var siblings) && siblings.ValueKind == JsonValueKind.Array)
        {
            foreach (var sibling in siblings.EnumerateArray())
            {
                if (!sibling.TryGetProperty("rfilename", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    throw new HubException(HubErrorKind.Protocol, $"The Hub's description of {repoId} lists a file without 'rfilename'.");
                }
                long? size = sibling.TryGetProperty("size", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : null;
                string? lfsSha = null;
                if (sibling.TryGetProperty("lfs", out var lfs) && lfs.ValueKind == JsonValueKind.Object)
                {
                    lfsSha = lfs.TryGetProperty("sha256", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
                    if (lfs.TryGetProperty("size", out var ls) && ls.ValueKind == JsonValueKind.Number)
                    {
                        size = ls.GetInt64();
                    }
                }
                files.Add(new HubRepoFile(name.GetString()!, size, lfsSha));
            }
        }
        return new HubRepoInfo(repoId, sha.GetString()!, files);
    }

    private static bool IsRedirect(HttpStatusCode status) => (int)status is 301 or 302 or 303 or 307 or 308;

    private static bool IsSameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }
        if (retryAfter?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? values.FirstOrDefault() : null;

    private static long? ParseLong(string? text) => long.TryParse(text, out long value) && value >= 0 ? value : null;
}
