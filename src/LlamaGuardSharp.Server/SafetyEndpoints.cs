using System.Text.Json;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Server;

/// <summary>
/// llama-stack's safety API: <c>GET /v1/shields</c> (the loaded model as one shield), <c>GET /v1/shields/{id}</c>,
/// <c>POST /v1/safety/run-shield</c>. Messages are OpenAI chat messages; the roles become Llama Guard turns as
/// llama-stack's Llama Guard provider does (docs/service.md).
/// </summary>
internal static class SafetyEndpoints
{
    /// <summary>What llama-stack answers a user on a violation (its canned text).</summary>
    public const string CannedUserMessage = "I can't answer that. Can I help with something else?";

    public static async Task ListShieldsAsync(HttpContext context, GuardState state)
    {
        var loaded = state.Loaded;
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartArray("data");
            if (loaded is not null)
            {
                WriteShield(writer, loaded.ModelId);
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        });
    }

    public static async Task GetShieldAsync(HttpContext context, string identifier, GuardState state)
    {
        var loaded = state.Loaded;
        if (loaded is null || loaded.ModelId != identifier)
        {
            throw new ApiException(StatusCodes.Status404NotFound, ApiErrorType.InvalidRequest, $"No shield '{identifier}' here.", "identifier", "shield_not_found");
        }
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, writer => WriteShield(writer, loaded.ModelId));
    }

    private static void WriteShield(Utf8JsonWriter writer, string id)
    {
        writer.WriteStartObject();
        writer.WriteString("identifier", id);
        writer.WriteString("provider_resource_id", id);
        writer.WriteString("provider_id", "llamaguard-sharp");
        writer.WriteString("type", "shield");
        writer.WriteStartObject("params");
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    public static async Task RunShieldAsync(HttpContext context, ClassificationService service, ImageSources images, PolicySource policies,
        LlamaGuardServiceOptions options, ILoggerFactory loggers)
    {
        var guard = service.RequireReady(context);
        using var body = await RequestBody.ReadObjectAsync(context.Request, options.MaxRequestBytes, context.RequestAborted);
        var root = body.RootElement;
        string shieldId = RequestBody.RequiredString(root, "shield_id", "shield_id");
        if (shieldId != guard.ModelId)
        {
            throw new ApiException(StatusCodes.Status404NotFound, ApiErrorType.InvalidRequest,
                $"No shield '{shieldId}' here; this service's shield is '{guard.ModelId}' (GET /v1/shields).", "shield_id", "shield_not_found");
        }
        var policy = policies.Configured;
        if (root.TryGetProperty("params", out var parameters) && parameters.ValueKind != JsonValueKind.Null)
        {
            if (parameters.ValueKind != JsonValueKind.Object)
            {
                throw ApiException.BadRequest("'params' must be an object.", "params", "invalid_type");
            }
            if (RequestBody.OptionalStrings(parameters, "excluded_categories", "params.excluded_categories") is { } excluded)
            {
                policy = PolicySource.Excluding(excluded, "params.excluded_categories");
            }
        }
        var conversation = await ParseMessagesAsync(root, images, context.RequestAborted);
        if (options.LogContent)
        {
            loggers.CreateLogger("LlamaGuardSharp.Server.Content").LogInformation("run-shield conversation: {Conversation}", conversation.ToString());
        }
        var verdict = await service.RunAsync(context, guard, "messages", "messages",
            (engine, token) => service.ClassifyAsync(engine, conversation, policy, token));
        bool flagged = ModerationsEndpoint.IsFlagged(verdict, options.Threshold);
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, writer =>
        {
            writer.WriteStartObject();
            if (!flagged)
            {
                writer.WriteNull("violation");
            }
            else
            {
                writer.WriteStartObject("violation");
                writer.WriteString("violation_level", "error");
                writer.WriteString("user_message", CannedUserMessage);
                writer.WriteStartObject("metadata");
                var codes = verdict.ViolatedCategories.Select(c => c.Code).Concat(verdict.UnknownCodes).ToArray();
                writer.WriteString("violation_type", string.Join(",", codes));
                writer.WriteNumber("unsafe_probability", verdict.UnsafeProbability);
                writer.WritePropertyName("llama_guard");
                VerdictJson.Write(writer, verdict);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        });
    }

    /// <summary>
    /// OpenAI chat messages → a Llama Guard conversation, as llama-stack's Llama Guard provider does: a first message that
    /// is not the user's (e.g. a system prompt) is taken as a user message, and dropped when a user message follows it;
    /// later system/developer messages are instructions, not conversation, and are left out; assistant and tool messages
    /// are Agent turns; consecutive turns of one role are joined (blank line between). At most one image, on a user message.
    /// </summary>
    internal static async Task<Conversation> ParseMessagesAsync(JsonElement root, ImageSources images, CancellationToken cancellationToken)
    {
        if (!root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            throw ApiException.BadRequest("'messages' is required: an array of chat messages.", "messages", "missing_required_parameter");
        }
        if (messages.GetArrayLength() == 0)
        {
            throw ApiException.BadRequest("'messages' is empty.", "messages", "invalid_value");
        }
        var parsed = new List<(Role Role, string Text, string? ImageUrl, string RawRole)>();
        int index = 0;
        foreach (var message in messages.EnumerateArray())
        {
            string param = $"messages[{index}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                throw ApiException.BadRequest($"'{param}' must be a message object.", param, "invalid_type");
            }
            string role = RequestBody.RequiredString(message, "role", param + ".role");
            var (text, imageUrl) = ParseContent(message, param);
            Role? llamaRole = role switch
            {
                "user" => Role.User,
                "assistant" or "tool" or "ipython" => Role.Agent,
                "system" or "developer" => index == 0 ? Role.User : null,
                _ => throw ApiException.BadRequest($"'{param}.role' is '{role}'; expected user, assistant, system, developer or tool.", param + ".role", "invalid_value"),
            };
            if (imageUrl is not null && role != "user")
            {
                throw ApiException.BadRequest("Only a user message can carry the image.", param, "invalid_value");
            }
            if (llamaRole is { } kept)
            {
                parsed.Add((kept, text, imageUrl, role));
            }
            index++;
        }
        if (parsed.Count >= 2 && parsed[0].RawRole is "system" or "developer" && parsed[1].Role == Role.User)
        {
            parsed.RemoveAt(0);
        }
        if (parsed.Count(p => p.ImageUrl is not null) > 1)
        {
            throw ApiException.BadRequest("Llama Guard 3 Vision judges at most one image per conversation; the messages carry more than one.", "messages", "too_many_images");
        }
        string? url = parsed.Select(p => p.ImageUrl).FirstOrDefault(u => u is not null);
        var image = url is null ? null : await images.ResolveAsync(url, "messages", cancellationToken);
        var turns = new List<ConversationTurn>();
        for (int i = 0; i < parsed.Count;)
        {
            var role = parsed[i].Role;
            var texts = new List<string>();
            bool carriesImage = false;
            for (; i < parsed.Count && parsed[i].Role == role; i++)
            {
                if (!string.IsNullOrWhiteSpace(parsed[i].Text))
                {
                    texts.Add(parsed[i].Text);
                }
                carriesImage |= parsed[i].ImageUrl is not null;
            }
            try
            {
                turns.Add(new ConversationTurn(role, string.Join("\n\n", texts), carriesImage ? image : null));
            }
            catch (ConversationException e)
            {
                throw ApiException.BadRequest(e.Message, "messages", "invalid_conversation");
            }
        }
        try
        {
            return Conversation.FromTurns(turns);
        }
        catch (ConversationException e)
        {
            throw ApiException.BadRequest(e.Message, "messages", "invalid_conversation");
        }
    }

    /// <summary>A message's <c>content</c>: a string, or parts (text, image_url).</summary>
    private static (string Text, string? ImageUrl) ParseContent(JsonElement message, string param)
    {
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
        {
            return ("", null);
        }
        if (content.ValueKind == JsonValueKind.String)
        {
            return (content.GetString()!, null);
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            throw ApiException.BadRequest($"'{param}.content' must be a string or an array of parts.", param + ".content", "invalid_type");
        }
        var (texts, imageUrl) = RequestBody.ReadParts(content, param + ".content", typeRequired: false, () => ApiException.BadRequest(
            "Llama Guard 3 Vision judges at most one image per conversation.", "messages", "too_many_images"));
        return (string.Join("\n", texts), imageUrl);
    }
}
