using System.Text.Json;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// One conversation of a <c>classify --input</c> file (JSON Lines), e.g.
/// <c>{"id": "a1", "user": "How do I bake bread?"}</c>, <c>{"user": "Describe it.", "agent": "A tower.", "image": "tower.png"}</c>
/// or <c>{"turns": [{"role": "user", "content": "…"}, {"role": "agent", "content": "…"}]}</c>. The image (a path, relative
/// to the input file's folder) goes with the first user turn. Unknown keys are errors, so that a typo is not silently
/// classified as something else.
/// </summary>
internal sealed record ConversationLine(string? Id, Conversation Conversation)
{
    private static readonly HashSet<string> Keys = ["id", "user", "agent", "turns", "image"];

    /// <param name="extraKeys">Keys the caller reads itself (e.g. <c>eval</c>'s "label"), accepted besides the conversation's.</param>
    /// <exception cref="FormatException">The line is not a conversation object; the message says why.</exception>
    public static async Task<ConversationLine> ParseAsync(string line, string baseDirectory, CancellationToken cancellationToken,
        IReadOnlySet<string>? extraKeys = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("expected a JSON object");
            }
            foreach (var property in root.EnumerateObject())
            {
                if (!Keys.Contains(property.Name) && extraKeys?.Contains(property.Name) != true)
                {
                    throw new FormatException($"unknown key \"{property.Name}\" (expected {string.Join(", ", Keys.Concat(extraKeys ?? Enumerable.Empty<string>()).Select(k => $"\"{k}\""))})");
                }
            }
            string? id = root.TryGetProperty("id", out var idElement) ? idElement.ValueKind switch
            {
                JsonValueKind.String => idElement.GetString(),
                JsonValueKind.Number => idElement.GetRawText(),
                _ => throw new FormatException("\"id\" must be a string or a number"),
            } : null;

            var turns = new List<(Role Role, string Text)>();
            bool hasTurns = root.TryGetProperty("turns", out var turnsElement);
            if (hasTurns && (root.TryGetProperty("user", out _) || root.TryGetProperty("agent", out _)))
            {
                throw new FormatException("give either \"turns\" or \"user\"/\"agent\", not both");
            }
            if (hasTurns)
            {
                if (turnsElement.ValueKind != JsonValueKind.Array)
                {
                    throw new FormatException("\"turns\" must be an array of {\"role\": \"user\"|\"agent\", \"content\": \"…\"}");
                }
                int index = 0;
                foreach (var turn in turnsElement.EnumerateArray())
                {
                    turns.Add(ParseTurn(turn, index++));
                }
            }
            else
            {
                turns.Add((Role.User, RequiredString(root, "user", "a \"user\" message (or \"turns\")")));
                if (root.TryGetProperty("agent", out _))
                {
                    turns.Add((Role.Agent, RequiredString(root, "agent", "the \"agent\" message")));
                }
            }

            ConversationImage? image = null;
            if (root.TryGetProperty("image", out var imageElement))
            {
                if (imageElement.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(imageElement.GetString()))
                {
                    throw new FormatException("\"image\" must be a file path");
                }
                image = await ConversationImage.FromFileAsync(Path.Combine(baseDirectory, imageElement.GetString()!), cancellationToken);
            }

            var builder = Conversation.Create();
            bool imagePlaced = false;
            foreach (var (role, text) in turns)
            {
                builder = role == Role.User ? builder.User(text, imagePlaced ? null : image) : builder.Agent(text);
                imagePlaced |= role == Role.User;
            }
            return new ConversationLine(id, builder.Build());
        }
    }

    private static (Role, string) ParseTurn(JsonElement turn, int index)
    {
        if (turn.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"turn {index} must be an object {{\"role\": …, \"content\": …}}");
        }
        string role = RequiredString(turn, "role", $"turn {index}'s \"role\"");
        string text = RequiredString(turn, "content", $"turn {index}'s \"content\"");
        return role switch
        {
            "user" => (Role.User, text),
            "agent" or "assistant" => (Role.Agent, text),
            _ => throw new FormatException($"turn {index} has role \"{role}\" (expected \"user\" or \"agent\")"),
        };
    }

    private static string RequiredString(JsonElement element, string name, string what) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FormatException($"missing {what} (a string)");
}
