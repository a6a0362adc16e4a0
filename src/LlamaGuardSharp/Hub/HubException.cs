using System.Net;

namespace LlamaGuardSharp.Hub;

/// <summary>
/// A Hub download failed. The message says what to do about it (accept the licence, set HF_TOKEN, check the file
/// name…). It is an <see cref="IOException"/>: remote storage that could not be read.
/// </summary>
public sealed class HubException : IOException
{
    /// <summary>Creates the exception.</summary>
    public HubException(HubErrorKind kind, string message, HttpStatusCode? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Kind = kind;
        StatusCode = statusCode;
    }

    /// <summary>What went wrong.</summary>
    public HubErrorKind Kind { get; }

    /// <summary>The HTTP status of the failing answer, when there was one.</summary>
    public HttpStatusCode? StatusCode { get; }
}
