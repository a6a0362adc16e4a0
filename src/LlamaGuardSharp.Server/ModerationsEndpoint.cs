using System.Text.Json;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Server;

/// <summary>
/// <c>POST /v1/moderations</c>, OpenAI-compatible: <c>input</c> is a string, an array of strings (one result each) or
/// an array of parts (<c>text</c>, <c>image_url</c>; one result; at most one image). Each input is a prompt
/// classification of one user turn. The result has OpenAI's fields plus <c>llama_guard</c>, the full verdict.
/// </summary>
internal static class ModerationsEndpoint
{
    private sealed record ModerationInput(Conversation Conversation, bool HasText, bool HasImage);

    public static async Task HandleAsync(HttpContext context, ClassificationService service, ImageSources images, PolicySource policies,
        ModerationCategoryMap map, LlamaGuardServiceOptions options, ILoggerFactory loggers)
    {
        var guard = service.RequireReady(context);
        using var body = await RequestBody.ReadObjectAsync(context.Request, options.MaxRequestBytes, context.RequestAborted);
        var root = body.RootElement;
        RequestBody.OptionalString(root, "model", "model"); // any model name is accepted: this service has one model
        if (!root.TryGetProperty("input", out var input) || input.ValueKind == JsonValueKind.Null)
        {
            throw ApiException.BadRequest("'input' is required: a string, an array of strings, or an array of text/image_url parts.", "input", "missing_required_parameter");
        }
        var inputs = await ParseInputsAsync(input, images, options, context.RequestAborted);
        if (options.LogContent)
        {
            loggers.CreateLogger("LlamaGuardSharp.Server.Content").LogInformation("Moderation input: {Input}", input.GetRawText());
        }
        var policy = policies.Configured;
        var verdicts = await service.RunAsync(context, guard, "input", "input", async (engine, token) =>
        {
            var list = new SafetyVerdict[inputs.Count];
            for (int i = 0; i < inputs.Count; i++)
            {
                list[i] = await service.ClassifyAsync(engine, inputs[i].Conversation, policy, token);
            }
            return list;
        });
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("id", "modr-" + Guid.NewGuid().ToString("N"));
            writer.WriteString("model", guard.ModelId);
            writer.WriteStartArray("results");
            for (int i = 0; i < verdicts.Length; i++)
            {
                WriteResult(writer, verdicts[i], inputs[i], policy, map, options.Threshold);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    /// <summary>The verdict's flag: the model's decision, or p(unsafe) ≥ threshold when one is configured.</summary>
    public static bool IsFlagged(SafetyVerdict verdict, double? threshold) =>
        threshold is { } t ? verdict.UnsafeProbability >= t : verdict.IsUnsafe;

    private static void WriteResult(Utf8JsonWriter writer, SafetyVerdict verdict, ModerationInput input, SafetyPolicy policy,
        ModerationCategoryMap map, double? threshold)
    {
        bool flagged = IsFlagged(verdict, threshold);
        var scores = map.Score(verdict, policy, flagged);
        writer.WriteStartObject();
        writer.WriteBoolean("flagged", flagged);
        writer.WriteStartObject("categories");
        foreach (var (key, keyFlagged, _) in scores)
        {
            writer.WriteBoolean(key, keyFlagged);
        }
        writer.WriteEndObject();
        writer.WriteStartObject("category_scores");
        foreach (var (key, _, score) in scores)
        {
            writer.WriteNumber(key, score);
        }
        writer.WriteEndObject();
        // Llama Guard judges the whole input for every category, so each category applies to every kind of input given.
        writer.WriteStartObject("category_applied_input_types");
        foreach (var (key, _, _) in scores)
        {
            writer.WriteStartArray(key);
            if (input.HasText) writer.WriteStringValue("text");
            if (input.HasImage) writer.WriteStringValue("image");
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
        writer.WritePropertyName("llama_guard");
        VerdictJson.Write(writer, verdict);
        writer.WriteEndObject();
    }

    private static async Task<IReadOnlyList<ModerationInput>> ParseInputsAsync(JsonElement input, ImageSources images,
        LlamaGuardServiceOptions options, CancellationToken cancellationToken)
    {
        if (input.ValueKind == JsonValueKind.String)
        {
            return [TextInput(input.GetString()!, "input")];
        }
        if (input.ValueKind != JsonValueKind.Array)
        {
            throw ApiException.BadRequest("'input' must be a string, an array of strings, or an array of text/image_url parts.", "input", "invalid_type");
        }
        int count = input.GetArrayLength();
        if (count == 0)
        {
            throw ApiException.BadRequest("'input' is an empty array.", "input", "invalid_value");
        }
        if (input.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String))
        {
            if (count > options.MaxInputs)
            {
                throw ApiException.BadRequest($"'input' has {count} strings; at most {options.MaxInputs} are accepted per request.", "input", "too_many_inputs");
            }
            return input.EnumerateArray().Select((e, i) => TextInput(e.GetString()!, $"input[{i}]")).ToArray();
        }
        if (input.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Object))
        {
            throw ApiException.BadRequest("'input' must be an array of strings or an array of part objects, not a mix.", "input", "invalid_type");
        }
        return [await PartsInputAsync(input, images, cancellationToken)];
    }

    private static ModerationInput TextInput(string text, string param)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw ApiException.BadRequest($"'{param}' is empty; give text to classify.", param, "invalid_value");
        }
        return new ModerationInput(Conversation.ForPrompt(text), HasText: true, HasImage: false);
    }

    private static async Task<ModerationInput> PartsInputAsync(JsonElement parts, ImageSources images, CancellationToken cancellationToken)
    {
        var (texts, imageUrl) = RequestBody.ReadParts(parts, "input", typeRequired: true, () => ApiException.BadRequest(
            "Llama Guard 3 Vision judges at most one image per input; this input has more than one image_url part.", "input", "too_many_images"));
        string text = string.Join("\n", texts.Where(t => !string.IsNullOrWhiteSpace(t)));
        ConversationImage? conversationImage = imageUrl is null ? null : await images.ResolveAsync(imageUrl, "input", cancellationToken);
        if (conversationImage is null && text.Length == 0)
        {
            throw ApiException.BadRequest("The parts hold no text and no image.", "input", "invalid_value");
        }
        return new ModerationInput(Conversation.ForPrompt(text, conversationImage), HasText: text.Length > 0, HasImage: conversationImage is not null);
    }
}
