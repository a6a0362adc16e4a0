using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace LlamaGuardSharp.Server;

/// <summary>
/// What every request goes through, outermost first: a request id (<c>X-Request-Id</c>, the client's when it is a
/// sane token, else a new one) in a log scope; one structured log line and the request metrics at the end; errors
/// turned into OpenAI's envelope (500s without internals; the details go to the log under the request id); and, when
/// API keys are configured, bearer authentication of every <c>/v1/</c> route.
/// </summary>
internal sealed partial class RequestPipeline(RequestDelegate next, ServiceMetrics metrics, LlamaGuardServiceOptions options,
    ILogger<RequestPipeline> logger)
{
    public const string RequestIdHeader = "X-Request-Id";

    /// <summary>Status logged and counted for a request whose client went away before the answer (nginx's convention).</summary>
    public const int ClientClosedRequest = 499;

    private readonly byte[][] _keys = options.ApiKeys.Select(k => Encoding.UTF8.GetBytes(k)).ToArray();

    public async Task InvokeAsync(HttpContext context)
    {
        long start = Stopwatch.GetTimestamp();
        string requestId = context.Request.Headers[RequestIdHeader] is [{ } given] && RequestIdPattern().IsMatch(given)
            ? given : Guid.NewGuid().ToString("N");
        context.TraceIdentifier = requestId;
        context.Response.Headers[RequestIdHeader] = requestId;
        // Named apart from ASP.NET Core's own RequestId scope (a connection-based id taken before this middleware runs).
        using var scope = logger.BeginScope("X-Request-Id:{XRequestId}", requestId);
        int status;
        try
        {
            Authenticate(context);
            await next(context);
            status = context.Response.StatusCode;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            status = ClientClosedRequest;
        }
        catch (ApiException e)
        {
            status = await WriteErrorAsync(context, e);
        }
        catch (BadHttpRequestException e)
        {
            status = await WriteErrorAsync(context, e.StatusCode == StatusCodes.Status413PayloadTooLarge ? RequestBody.TooLarge(options.MaxRequestBytes)
                : new ApiException(e.StatusCode, ApiErrorType.InvalidRequest, "The HTTP request is malformed.", code: "bad_request"));
        }
        catch (Exception e)
        {
            logger.LogError(e, "Unhandled error answering {Method} {Path}", context.Request.Method, context.Request.Path.Value);
            status = await WriteErrorAsync(context, new ApiException(StatusCodes.Status500InternalServerError, ApiErrorType.Server,
                $"The server had an error while processing your request (request id {requestId}).", code: "internal_error"));
        }
        var elapsed = Stopwatch.GetElapsedTime(start);
        string route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
        metrics.RequestDone(route, status, elapsed);
        logger.LogInformation("{Method} {Route} answered {Status} in {ElapsedMs:F1} ms", context.Request.Method, route, status, elapsed.TotalMilliseconds);
    }

    private async Task<int> WriteErrorAsync(HttpContext context, ApiException error)
    {
        if (context.Response.HasStarted)
        {
            // Too late for a status: cut the connection so the client cannot take a half answer for a whole one.
            logger.LogWarning("Error after the answer started: {Message}", error.Message);
            context.Abort();
            return context.Response.StatusCode;
        }
        if (context.RequestAborted.IsCancellationRequested)
        {
            return ClientClosedRequest;
        }
        await error.WriteAsync(context);
        return error.Status;
    }

    private void Authenticate(HttpContext context)
    {
        if (_keys.Length == 0 || !context.Request.Path.StartsWithSegments("/v1"))
        {
            return;
        }
        string? header = context.Request.Headers.Authorization;
        if (string.IsNullOrEmpty(header))
        {
            throw new ApiException(StatusCodes.Status401Unauthorized, ApiErrorType.Authentication,
                "You didn't provide an API key: send it as 'Authorization: Bearer KEY'.", code: "missing_api_key");
        }
        byte[] given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? Encoding.UTF8.GetBytes(header[7..].Trim()) : [];
        bool match = false;
        foreach (byte[] key in _keys)
        {
            match |= CryptographicOperations.FixedTimeEquals(given, key);
        }
        if (!match)
        {
            throw new ApiException(StatusCodes.Status401Unauthorized, ApiErrorType.Authentication,
                "Incorrect API key provided.", code: "invalid_api_key");
        }
    }

    /// <summary>A client's request id is kept when it is a plain token (it ends up in logs and headers).</summary>
    [GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$", RegexOptions.CultureInvariant)]
    private static partial Regex RequestIdPattern();
}
