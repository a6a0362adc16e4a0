using System.Text.Json;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// The body of <c>POST /v1/classify</c> (the service's native API, BRIEF contract): <c>turns</c> with roles user/agent,
/// the image as a data URI (it belongs to the first user turn), <c>task</c> from the last turn, and the policy as its
/// full <c>categories</c> list.
/// </summary>
internal static class ClassifyRequestJson
{
    public static byte[] Write(Conversation conversation, SafetyPolicy? policy)
    {
        var image = conversation.Image;
        if (image is not null)
        {
            if (image.IsPlaceholder)
            {
                throw new ArgumentException("The conversation's image is a placeholder without pixels; a classification needs the image bytes.", nameof(conversation));
            }
            if (!conversation.Turns[0].HasImage)
            {
                throw new ArgumentException(
                    "The service's native API attaches the image to the first user turn, but this conversation has it on a later turn; classify that turn with its image in a conversation of its own.",
                    nameof(conversation));
            }
        }
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("turns");
            foreach (var turn in conversation.Turns)
            {
                writer.WriteStartObject();
                writer.WriteString("role", turn.Role == Role.User ? "user" : "agent");
                writer.WriteString("content", turn.Text);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            if (image is not null)
            {
                writer.WriteString("image", $"data:{MediaType(image.EncodedBytes.Span)};base64,{Convert.ToBase64String(image.EncodedBytes.Span)}");
            }
            writer.WriteString("task", conversation.Task == ClassificationTask.PromptClassification ? "prompt" : "response");
            if (policy is not null)
            {
                writer.WriteStartObject("policy");
                writer.WriteStartArray("categories");
                foreach (var category in policy.Categories)
                {
                    writer.WriteStartObject();
                    writer.WriteString("code", category.Code);
                    writer.WriteString("name", category.Name);
                    writer.WriteString("description", category.Description);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>The image's media type from its magic bytes (the service decodes the bytes whatever the label says).</summary>
    private static string MediaType(ReadOnlySpan<byte> bytes) => bytes switch
    {
        [0x89, (byte)'P', (byte)'N', (byte)'G', ..] => "image/png",
        [0xFF, 0xD8, 0xFF, ..] => "image/jpeg",
        [(byte)'G', (byte)'I', (byte)'F', (byte)'8', ..] => "image/gif",
        [(byte)'R', (byte)'I', (byte)'F', (byte)'F', _, _, _, _, (byte)'W', (byte)'E', (byte)'B', (byte)'P', ..] => "image/webp",
        [(byte)'B', (byte)'M', ..] => "image/bmp",
        _ => "application/octet-stream",
    };
}
