using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace LlamaGuardSharp.Server;

/// <summary>
/// The request and error shapes shown in <c>/openapi/v1.json</c>. The handlers read bodies by hand (a union such as
/// OpenAI's <c>input</c> has no single .NET type, and every error must name its field), so these records exist for the
/// document only; <see cref="RequestBodyShape"/> attaches one to a route.
/// </summary>
internal static class OpenApiShapes
{
    /// <summary>Adds the request body of routes marked with <see cref="RequestBodyShape"/>.</summary>
    public static void AddRequestBodies(OpenApiOptions options) => options.AddOperationTransformer(async (operation, context, cancellationToken) =>
    {
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<RequestBodyShape>().FirstOrDefault() is { } shape)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = await context.GetOrCreateSchemaAsync(shape.Type, null, cancellationToken) },
                },
            };
        }
    });
}

/// <summary>Endpoint metadata: the documented JSON body of a route.</summary>
internal sealed record RequestBodyShape(Type Type);

[Description("OpenAI moderations request.")]
internal sealed record ModerationRequestShape(
    [property: JsonPropertyName("model"), Description("Any name is accepted; the service has one model and reports it.")] string? Model,
    [property: JsonPropertyName("input"), Required, Description("A string, an array of strings (one result each), or an array of parts {\"type\":\"text\",\"text\"} / {\"type\":\"image_url\",\"image_url\":{\"url\"}} (one result, at most one image).")]
    JsonElement Input);

[Description("llama-stack run-shield request.")]
internal sealed record RunShieldRequestShape(
    [property: JsonPropertyName("shield_id"), Required, Description("The shield id from GET /v1/shields.")] string ShieldId,
    [property: JsonPropertyName("messages"), Required, Description("OpenAI chat messages (content: a string or text/image_url parts).")] JsonElement[] Messages,
    [property: JsonPropertyName("params"), Description("Optional: {\"excluded_categories\": [\"S6\", …]}.")] JsonElement? Params);

[Description("Native classification request.")]
internal sealed record ClassifyRequestShape(
    [property: JsonPropertyName("turns"), Required, Description("The conversation, alternating from a user turn.")] TurnShape[] Turns,
    [property: JsonPropertyName("image"), Description("data: URL or allowed http(s) URL; belongs to the first user turn.")] string? Image,
    [property: JsonPropertyName("task"), Description("auto (default), prompt, response or both.")] string? Task,
    [property: JsonPropertyName("policy"), Description("Custom categories (replacing S1–S13) and/or exclusions.")] PolicyShape? Policy);

internal sealed record TurnShape(
    [property: JsonPropertyName("role"), Required, Description("user, agent or assistant.")] string Role,
    [property: JsonPropertyName("content"), Required] string Content);

internal sealed record PolicyShape(
    [property: JsonPropertyName("categories")] CategoryShape[]? Categories,
    [property: JsonPropertyName("exclude")] string[]? Exclude);

internal sealed record CategoryShape(
    [property: JsonPropertyName("code"), Required] string Code,
    [property: JsonPropertyName("name"), Required] string Name,
    [property: JsonPropertyName("description")] string? Description);

[Description("OpenAI's error envelope, used by every route.")]
internal sealed record ErrorEnvelopeShape([property: JsonPropertyName("error"), Required] ErrorShape Error);

internal sealed record ErrorShape(
    [property: JsonPropertyName("message"), Required] string Message,
    [property: JsonPropertyName("type"), Required, Description("invalid_request_error, authentication_error, rate_limit_error or server_error.")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);
