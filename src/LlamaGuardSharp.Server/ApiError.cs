using System.Text.Json;

namespace LlamaGuardSharp.Server;

/// <summary>The <c>type</c> of OpenAI's error envelope, the one error shape of every route.</summary>
public enum ApiErrorType
{
    InvalidRequest,
    Authentication,
    RateLimit,
    Server,
}

/// <summary>
/// A request that ends in an error answer: the HTTP status and OpenAI's envelope
/// <c>{"error":{"message","type","param","code"}}</c>. Thrown by the request handlers, written by <see cref="RequestPipeline"/>.
/// The message is for the client: it names the problem and never carries internals (stack traces, paths).
/// </summary>
public sealed class ApiException(int status, ApiErrorType type, string message, string? param = null, string? code = null) : Exception(message)
{
    public int Status { get; } = status;

    public ApiErrorType Type { get; } = type;

    public string? Param { get; } = param;

    public string? Code { get; } = code;

    /// <summary>Seconds for a <c>Retry-After</c> header (429, 503), if any.</summary>
    public int? RetryAfterSeconds { get; init; }

    /// <summary>For a 429: the queue depth (waiting + running) that caused the refusal, for <c>X-Queue-Depth</c>.</summary>
    public int? QueueDepth { get; init; }

    /// <summary>For a 429: the queue limit in force at the refusal, for <c>X-Queue-Limit</c>.</summary>
    public int? QueueLimit { get; init; }

    public static ApiException BadRequest(string message, string? param, string? code = "invalid_value") =>
        new(StatusCodes.Status400BadRequest, ApiErrorType.InvalidRequest, message, param, code);

    /// <summary>Writes the envelope (the response must not have started).</summary>
    public Task WriteAsync(HttpContext context)
    {
        context.Response.StatusCode = Status;
        if (RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        if (Status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }
        return JsonResponse.WriteAsync(context, Status, writer => WriteEnvelope(writer, Type, Message, Param, Code));
    }

    /// <summary>The envelope object at the writer's position.</summary>
    public static void WriteEnvelope(Utf8JsonWriter writer, ApiErrorType type, string message, string? param, string? code)
    {
        writer.WriteStartObject();
        writer.WriteStartObject("error");
        writer.WriteString("message", message);
        writer.WriteString("type", type switch
        {
            ApiErrorType.InvalidRequest => "invalid_request_error",
            ApiErrorType.Authentication => "authentication_error",
            ApiErrorType.RateLimit => "rate_limit_error",
            _ => "server_error",
        });
        if (param is null) writer.WriteNull("param"); else writer.WriteString("param", param);
        if (code is null) writer.WriteNull("code"); else writer.WriteString("code", code);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }
}
