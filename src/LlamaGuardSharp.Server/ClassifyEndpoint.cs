using System.Text.Json;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Server;

/// <summary>
/// The native API, <c>POST /v1/classify</c> (the shared contract in docs/service.md): turns, an optional image for the
/// first user turn, a task (<c>auto|prompt|response|both</c>) and a policy → one verdict (<see cref="VerdictJson"/>), or
/// <c>{"prompt", "response"}</c> for <c>both</c> with the image encoded once.
/// </summary>
internal static class ClassifyEndpoint
{
    public static async Task HandleAsync(HttpContext context, ClassificationService service, ImageSources images, PolicySource policies,
        LlamaGuardServiceOptions options, ILoggerFactory loggers)
    {
        var guard = service.RequireReady(context);
        using var body = await RequestBody.ReadObjectAsync(context.Request, options.MaxRequestBytes, context.RequestAborted);
        var root = body.RootElement;
        var turns = ParseTurns(root);
        string task = RequestBody.OptionalString(root, "task", "task") ?? "auto";
        if (task is not ("auto" or "prompt" or "response" or "both"))
        {
            throw ApiException.BadRequest($"'task' is '{task}'; expected auto, prompt, response or both.", "task", "invalid_value");
        }
        var policy = policies.FromNative(root);
        string? imageUrl = RequestBody.OptionalString(root, "image", "image");
        var image = imageUrl is null ? null : await images.ResolveAsync(imageUrl, "image", context.RequestAborted);
        var conversation = Build(turns, image);
        if (options.LogContent)
        {
            loggers.CreateLogger("LlamaGuardSharp.Server.Content").LogInformation("classify conversation: {Conversation}", conversation.ToString());
        }

        bool endsWithAgent = conversation.LastRole == Role.Agent;
        // Conversation alternates User, Agent, … from a User turn: the last user turn is the last turn or the one before.
        var prompt = endsWithAgent ? Conversation.FromTurns(conversation.Turns.Take(conversation.Turns.Count - 1)) : conversation;
        switch (task)
        {
            case "prompt":
                conversation = prompt;
                break;
            case "response" when !endsWithAgent:
                throw ApiException.BadRequest("task 'response' needs a conversation whose last turn is the agent's.", "task", "invalid_value");
            case "both" when !endsWithAgent:
                throw ApiException.BadRequest("task 'both' needs a conversation that ends with an agent turn after a user turn.", "task", "invalid_value");
        }

        if (task == "both")
        {
            var pair = await service.RunAsync(context, guard, "turns", "image", async (engine, token) =>
            {
                // The prompt first: its image encoding stays in the model's image cache for the response.
                var promptVerdict = await service.ClassifyAsync(engine, prompt, policy, token);
                var responseVerdict = await service.ClassifyAsync(engine, conversation, policy, token);
                return new ExchangeVerdicts(promptVerdict, responseVerdict);
            });
            await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, writer => VerdictJson.Write(writer, pair));
            return;
        }
        var verdict = await service.RunAsync(context, guard, "turns", "image",
            (engine, token) => service.ClassifyAsync(engine, conversation, policy, token));
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, writer => VerdictJson.Write(writer, verdict));
    }

    private static IReadOnlyList<(Role Role, string Content)> ParseTurns(JsonElement root)
    {
        if (!root.TryGetProperty("turns", out var turns) || turns.ValueKind == JsonValueKind.Null)
        {
            throw ApiException.BadRequest("'turns' is required: [{\"role\": \"user\", \"content\": \"…\"}, …].", "turns", "missing_required_parameter");
        }
        if (turns.ValueKind != JsonValueKind.Array)
        {
            throw ApiException.BadRequest("'turns' must be an array of {\"role\", \"content\"}.", "turns", "invalid_type");
        }
        if (turns.GetArrayLength() == 0)
        {
            throw ApiException.BadRequest("'turns' is empty; give at least one user turn.", "turns", "invalid_value");
        }
        var list = new List<(Role, string)>();
        int i = 0;
        foreach (var turn in turns.EnumerateArray())
        {
            string param = $"turns[{i++}]";
            if (turn.ValueKind != JsonValueKind.Object)
            {
                throw ApiException.BadRequest($"'{param}' must be an object {{\"role\", \"content\"}}.", param, "invalid_type");
            }
            string role = RequestBody.RequiredString(turn, "role", param + ".role");
            var llamaRole = role switch
            {
                "user" => Role.User,
                "agent" or "assistant" => Role.Agent,
                _ => throw ApiException.BadRequest($"'{param}.role' is '{role}'; expected user, agent or assistant.", param + ".role", "invalid_value"),
            };
            list.Add((llamaRole, RequestBody.RequiredString(turn, "content", param + ".content")));
        }
        return list;
    }

    private static Conversation Build(IReadOnlyList<(Role Role, string Content)> turns, ConversationImage? image)
    {
        var built = new List<ConversationTurn>(turns.Count);
        bool imagePlaced = image is null;
        for (int i = 0; i < turns.Count; i++)
        {
            var (role, content) = turns[i];
            bool carries = !imagePlaced && role == Role.User;
            imagePlaced |= carries;
            try
            {
                built.Add(new ConversationTurn(role, content, carries ? image : null));
            }
            catch (ConversationException e)
            {
                throw ApiException.BadRequest(e.Message, $"turns[{i}]", "invalid_conversation");
            }
        }
        try
        {
            return Conversation.FromTurns(built);
        }
        catch (ConversationException e)
        {
            throw ApiException.BadRequest(e.Message, "turns", "invalid_conversation");
        }
    }
}
