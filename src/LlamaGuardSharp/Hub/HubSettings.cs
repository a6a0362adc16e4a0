using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Hub;

/// <summary>
/// Where the Hugging Face Hub and its local cache are, read from the same environment variables as Python's
/// <c>huggingface_hub</c>, so both share one cache and one token:
/// <c>HF_ENDPOINT</c> (default <c>https://huggingface.co</c>, trailing <c>/</c> dropped); <c>HF_HOME</c> (default
/// <c>$XDG_CACHE_HOME/huggingface</c>, else <c>~/.cache/huggingface</c>); <c>HF_HUB_CACHE</c> (else the legacy
/// <c>HUGGINGFACE_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>); the token from <c>HF_TOKEN</c> (else the legacy
/// <c>HUGGING_FACE_HUB_TOKEN</c>, else the file <c>HF_TOKEN_PATH</c> or <c>$HF_HOME/token</c>, trimmed); offline mode from
/// <c>HF_HUB_OFFLINE</c> (or <c>TRANSFORMERS_OFFLINE</c>) set to 1/ON/YES/TRUE, case-insensitive.
/// </summary>
/// <param name="Endpoint">The Hub's base address; a trailing slash is ignored (requests go below <see cref="BaseAddress"/>).</param>
/// <param name="CacheDirectory">The hub cache (the folder holding <c>models--org--name</c> folders).</param>
/// <param name="Token">The access token sent as <c>Authorization: Bearer …</c>, or null for anonymous access.</param>
/// <param name="Offline">True when no network call may be made.</param>
public sealed record HubSettings(Uri Endpoint, string CacheDirectory, string? Token, bool Offline)
{
    /// <summary>The public Hub.</summary>
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary><see cref="Endpoint"/> as text without its trailing slash, the prefix of every request address
    /// (<c>{BaseAddress}/api/models/…</c>, <c>{BaseAddress}/{repo}/resolve/…</c>).</summary>
    internal string BaseAddress => Endpoint.AbsoluteUri.TrimEnd('/');

    /// <summary>Reads the process environment (and the stored token file).</summary>
    public static HubSettings FromEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);

    /// <summary>Reads the given environment (tests pass their own); the token file is read from disk.</summary>
    public static HubSettings FromEnvironment(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Get(string name) => environment(name) is { Length: > 0 } value ? value : null;

        string endpointText = Get("HF_ENDPOINT") ?? DefaultEndpoint;
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"HF_ENDPOINT must be an absolute http(s) address, not '{endpointText}'.");
        }
        string home = Expand(Get("HF_HOME")) ?? Path.Combine(Expand(Get("XDG_CACHE_HOME")) ?? Path.Combine(HomeDirectory(), ".cache"), "huggingface");
        string cache = Expand(Get("HF_HUB_CACHE")) ?? Expand(Get("HUGGINGFACE_HUB_CACHE")) ?? Path.Combine(home, "hub");
        string? token = Get("HF_TOKEN") ?? Get("HUGGING_FACE_HUB_TOKEN") ?? ReadTokenFile(Expand(Get("HF_TOKEN_PATH")) ?? Path.Combine(home, "token"));
        bool offline = IsTrue(Get("HF_HUB_OFFLINE") ?? Get("TRANSFORMERS_OFFLINE"));
        return new HubSettings(endpoint, cache, token?.Trim() is { Length: > 0 } t ? t : null, offline);
    }

    /// <summary>huggingface_hub's truth values: 1, ON, YES, TRUE in any case.</summary>
    private static bool IsTrue(string? value) => value?.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    private static string? ReadTokenFile(string path)
    {
        try
        {
            return File.Exists(path) ? BoundedFile.ReadAllText(path, BoundedFile.MaxRefBytes, "Hugging Face token file").Trim() : null;
        }
        catch (InputFileException e) when (e.Problem != InputFileProblem.Unreadable)
        {
            throw; // a FIFO, device, folder or oversized file where the token should be is a mistake to report, not anonymity
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // an unreadable token file means anonymous access, as in huggingface_hub
        }
    }

    private static string HomeDirectory() => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? home : Path.GetTempPath();

    /// <summary>A leading <c>~</c> is the home folder, as Python's expanduser makes it.</summary>
    private static string? Expand(string? path)
    {
        if (path is null)
        {
            return null;
        }
        if (path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
        {
            path = HomeDirectory() + path[1..];
        }
        return path;
    }
}
