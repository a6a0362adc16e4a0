using System.Buffers;
using System.Text.Json;

namespace LlamaGuardSharp.Server;

/// <summary>Reads a request's JSON body within the size limit; every failure is an <see cref="ApiException"/>.</summary>
internal static class RequestBody
{
    /// <exception cref="ApiException">413 over <paramref name="maxBytes"/>, 415 not JSON, 400 malformed or not an object.</exception>
    public static async Task<JsonDocument> ReadObjectAsync(HttpRequest request, long maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentType is { } type && !type.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiException(StatusCodes.Status415UnsupportedMediaType, ApiErrorType.InvalidRequest,
                $"The body must be JSON (Content-Type: application/json), not {type}.", code: "unsupported_media_type");
        }
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }
        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is > 0 and < 1 << 20 ? (int)request.ContentLength.Value : 16 * 1024);
        while (true)
        {
            var memory = buffer.GetMemory(16 * 1024);
            int read;
            try
            {
                read = await request.Body.ReadAsync(memory, cancellationToken);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                throw TooLarge(maxBytes);
            }
            if (read == 0)
            {
                break;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                throw TooLarge(maxBytes);
            }
        }
        if (buffer.WrittenCount == 0)
        {
            throw ApiException.BadRequest("The request has no body; send a JSON object.", null, "invalid_json");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.WrittenMemory, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"The body is not valid JSON: {e.Message}", null, "invalid_json");
        }
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw ApiException.BadRequest("The body must be a JSON object.", null, "invalid_json");
        }
        return document;
    }

    private static ApiException TooLarge(long maxBytes) => new(StatusCodes.Status413PayloadTooLarge, ApiErrorType.InvalidRequest,
        $"The request body is larger than the limit of {maxBytes} bytes.", code: "request_too_large");

    /// <summary>A required string property.</summary>
    public static string RequiredString(JsonElement obj, string name, string param)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            throw ApiException.BadRequest($"'{param}' is required.", param, "missing_required_parameter");
        }
        return value.ValueKind == JsonValueKind.String ? value.GetString()!
            : throw ApiException.BadRequest($"'{param}' must be a string.", param, "invalid_type");
    }

    /// <summary>An optional string property (absent or null: null).</summary>
    public static string? OptionalString(JsonElement obj, string name, string param)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.String ? value.GetString()!
            : throw ApiException.BadRequest($"'{param}' must be a string.", param, "invalid_type");
    }

    /// <summary>An optional array of strings.</summary>
    public static IReadOnlyList<string>? OptionalStrings(JsonElement obj, string name, string param)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            throw ApiException.BadRequest($"'{param}' must be an array of strings.", param, "invalid_type");
        }
        return value.EnumerateArray().Select(e => e.GetString()!).ToArray();
    }
}
