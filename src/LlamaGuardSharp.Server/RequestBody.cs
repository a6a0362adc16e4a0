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

    /// <summary>The 413 for a body over <paramref name="maxBytes"/> (read here or refused by Kestrel's own limit).</summary>
    public static ApiException TooLarge(long maxBytes) => new(StatusCodes.Status413PayloadTooLarge, ApiErrorType.InvalidRequest,
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

    /// <summary>
    /// OpenAI-style content parts (<c>{"type":"text","text":…}</c>, <c>{"type":"image_url","image_url":{"url":…}}</c>), as
    /// both the moderations <c>input</c> and a chat message's <c>content</c> carry them: the texts in order and the one
    /// image's URL (null when none). Llama Guard 3 Vision judges at most one image, so a second image_url part is refused
    /// with the caller's own <paramref name="tooManyImages"/> error (its wording and param depend on what "one" counts).
    /// </summary>
    /// <param name="parts">A JSON array of part objects.</param>
    /// <param name="param">The array's parameter path; part <c>i</c> is named <c>{param}[i]</c> in errors.</param>
    /// <param name="typeRequired">False: a part without <c>type</c> is an image_url part if it has <c>image_url</c>, else text.</param>
    /// <param name="tooManyImages">The error for a second image_url part.</param>
    public static (IReadOnlyList<string> Texts, string? ImageUrl) ReadParts(JsonElement parts, string param, bool typeRequired,
        Func<ApiException> tooManyImages)
    {
        var texts = new List<string>();
        string? imageUrl = null;
        int index = 0;
        foreach (var part in parts.EnumerateArray())
        {
            string partParam = $"{param}[{index++}]";
            if (part.ValueKind != JsonValueKind.Object)
            {
                throw ApiException.BadRequest($"'{partParam}' must be a part object.", partParam, "invalid_type");
            }
            string type = typeRequired ? RequiredString(part, "type", partParam + ".type")
                : OptionalString(part, "type", partParam + ".type") ?? (part.TryGetProperty("image_url", out _) ? "image_url" : "text");
            switch (type)
            {
                case "text":
                    texts.Add(RequiredString(part, "text", partParam + ".text"));
                    break;
                case "image_url":
                    if (!part.TryGetProperty("image_url", out var image) || image.ValueKind != JsonValueKind.Object)
                    {
                        throw ApiException.BadRequest($"'{partParam}.image_url' must be an object {{\"url\": …}}.", partParam + ".image_url", "invalid_type");
                    }
                    string url = RequiredString(image, "url", partParam + ".image_url.url");
                    if (imageUrl is not null)
                    {
                        throw tooManyImages();
                    }
                    imageUrl = url;
                    break;
                default:
                    throw ApiException.BadRequest($"'{partParam}.type' is '{type}'; the supported part types are 'text' and 'image_url'.",
                        partParam + ".type", "invalid_value");
            }
        }
        return (texts, imageUrl);
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
