using System.Net;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// A <c>llamaguard serve</c> call that failed: the HTTP status and the service's error envelope
/// (<c>{"error": {"message", "type", "param", "code"}}</c>) when it answered, else why it could not be reached.
/// Subclasses name the cases a caller handles differently.
/// </summary>
public class LlamaGuardServiceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LlamaGuardServiceException(string message, HttpStatusCode? statusCode = null, string? errorType = null, string? param = null,
        string? errorCode = null, string? requestId = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ErrorType = errorType;
        Param = param;
        ErrorCode = errorCode;
        RequestId = requestId;
    }

    /// <summary>The HTTP status; null when no response came (connection failure, timeout).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The envelope's <c>type</c> (<c>invalid_request_error</c>, <c>authentication_error</c>, <c>rate_limit_error</c>, <c>server_error</c>).</summary>
    public string? ErrorType { get; }

    /// <summary>The envelope's <c>param</c>: the request field at fault, when the service names one.</summary>
    public string? Param { get; }

    /// <summary>The envelope's <c>code</c>.</summary>
    public string? ErrorCode { get; }

    /// <summary>The service's <c>X-Request-Id</c> for this call, to find it in the service's logs.</summary>
    public string? RequestId { get; }
}

/// <summary>The service rejected the request (400 bad body, 413 too large): retrying the same request cannot help.</summary>
public sealed class LlamaGuardRequestException(string message, HttpStatusCode statusCode, string? errorType, string? param, string? errorCode, string? requestId)
    : LlamaGuardServiceException(message, statusCode, errorType, param, errorCode, requestId);

/// <summary>The service requires an API key and got none or a wrong one (401).</summary>
public sealed class LlamaGuardAuthenticationException(string message, string? errorType, string? errorCode, string? requestId)
    : LlamaGuardServiceException(message, HttpStatusCode.Unauthorized, errorType, null, errorCode, requestId);

/// <summary>The service's queue was full (429) and stayed full through the retries.</summary>
public sealed class LlamaGuardRateLimitException(string message, TimeSpan? retryAfter, string? errorType, string? errorCode, string? requestId)
    : LlamaGuardServiceException(message, HttpStatusCode.TooManyRequests, errorType, null, errorCode, requestId)
{
    /// <summary>The service's <c>Retry-After</c>, when it sent one.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>
/// The service could not answer: not ready or draining (503), unreachable, or no answer within the timeout, after the
/// retries. The guard could not judge, so a guarded chat fails rather than letting the content through.
/// </summary>
public sealed class LlamaGuardUnavailableException(string message, HttpStatusCode? statusCode = null, string? errorType = null, string? requestId = null, Exception? innerException = null)
    : LlamaGuardServiceException(message, statusCode, errorType, null, null, requestId, innerException);
