namespace LlamaGuardSharp.Hub;

/// <summary>What went wrong talking to the Hub or writing its files (<see cref="HubException.Kind"/>).</summary>
public enum HubErrorKind
{
    /// <summary>The repository is gated and this token (or no token) has not been granted access.</summary>
    Gated,
    /// <summary>The token was rejected (401 without a more specific reason).</summary>
    Unauthorized,
    /// <summary>No such repository (or it is private and invisible to this token).</summary>
    RepositoryNotFound,
    /// <summary>No such branch, tag or commit.</summary>
    RevisionNotFound,
    /// <summary>No such file at that revision.</summary>
    EntryNotFound,
    /// <summary>429 Too Many Requests, still after every retry.</summary>
    RateLimited,
    /// <summary>A 5xx answer or another unexpected status, still after every retry.</summary>
    Server,
    /// <summary>The connection failed or dropped, still after every retry.</summary>
    Network,
    /// <summary>A downloaded file does not match its sha256 or size; the partial blob was deleted.</summary>
    Integrity,
    /// <summary>Not enough free disk space for what is left to download.</summary>
    DiskSpace,
    /// <summary>Writing the downloaded bytes failed (disk full, permissions, I/O error); the partial file is kept.</summary>
    LocalWrite,
    /// <summary>A download was needed but offline mode (<c>HF_HUB_OFFLINE</c>) is on.</summary>
    Offline,
    /// <summary>The Hub answered something this client cannot read (bad JSON, missing headers).</summary>
    Protocol,
}
