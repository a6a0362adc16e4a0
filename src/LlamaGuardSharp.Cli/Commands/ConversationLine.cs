using System.Text.Json;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// One conversation of a <c>classify --input</c> file (JSON Lines), e.g.
/// <c>{"id": "a1", "user": "How do I bake bread?"}</c>, <c>{"user": "Describe it.", "agent": "A tower.", "image": "tower.png"}</c>
/// or <c>{"turns": [{"role": "user", "content": "…"}, {"role": "agent", "content": "…"}]}</c>. The image (a path, see
/// <see cref="ImagePathResolver"/>) goes with the first user turn. Nothing is ignored: an unknown, repeated or misplaced
/// key is an error that names it, and a value of the wrong type names the type expected, so that a typo is not silently
/// classified as something else.
/// </summary>
internal sealed record ConversationLine(string? Id, Conversation Conversation)
{
    private static readonly string[] Keys = ["id", "user", "agent", "turns", "image"];
    private static readonly string[] TurnKeys = ["role", "content"];

    /// <param name="extraKeys">Keys the caller reads itself (e.g. <c>eval</c>'s "label"), accepted besides the conversation's.</param>
    /// <exception cref="FormatException">The line is not a conversation object; the message says why.</exception>
    public static async Task<ConversationLine> ParseAsync(string line, ImagePathResolver images, CancellationToken cancellationToken,
        IReadOnlyCollection<string>? extraKeys = null)
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
                throw new FormatException($"expected a JSON object, got {SafetyPolicyJson.Describe(root.ValueKind)}");
            }
            CheckKeys(root, extraKeys is null ? Keys : [.. Keys, .. extraKeys], "");
            string? id = root.TryGetProperty("id", out var idElement) ? idElement.ValueKind switch
            {
                JsonValueKind.String => Text(idElement, "\"id\""),
                JsonValueKind.Number => idElement.GetRawText(),
                _ => throw new FormatException($"\"id\" must be a string or a number, not {SafetyPolicyJson.Describe(idElement.ValueKind)}"),
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
                    throw new FormatException($"\"turns\" must be an array of {{\"role\": \"user\"|\"agent\", \"content\": \"…\"}}, not {SafetyPolicyJson.Describe(turnsElement.ValueKind)}");
                }
                int index = 0;
                foreach (var turn in turnsElement.EnumerateArray())
                {
                    turns.Add(ParseTurn(turn, index++));
                }
            }
            else
            {
                turns.Add((Role.User, RequiredString(root, "user", "\"user\"", "a \"user\" message (or \"turns\")")));
                if (root.TryGetProperty("agent", out _))
                {
                    turns.Add((Role.Agent, RequiredString(root, "agent", "\"agent\"", "the \"agent\" message")));
                }
            }

            ConversationImage? image = null;
            if (root.TryGetProperty("image", out var imageElement))
            {
                if (imageElement.ValueKind != JsonValueKind.String)
                {
                    throw new FormatException($"\"image\" must be a string (a file path), not {SafetyPolicyJson.Describe(imageElement.ValueKind)}");
                }
                string imagePath = Text(imageElement, "\"image\"");
                if (imagePath.Length == 0)
                {
                    throw new FormatException("\"image\" must be a file path, not an empty string");
                }
                image = await ConversationImage.FromFileAsync(images.Resolve(imagePath), cancellationToken);
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
            throw new FormatException($"turn {index} must be an object {{\"role\": …, \"content\": …}}, not {SafetyPolicyJson.Describe(turn.ValueKind)}");
        }
        CheckKeys(turn, TurnKeys, $"turn {index}: ");
        string role = RequiredString(turn, "role", $"turn {index}'s \"role\"", $"turn {index}'s \"role\"");
        string text = RequiredString(turn, "content", $"turn {index}'s \"content\"", $"turn {index}'s \"content\"");
        return role switch
        {
            "user" => (Role.User, text),
            "agent" or "assistant" => (Role.Agent, text),
            _ => throw new FormatException($"turn {index} has role \"{role}\" (expected \"user\" or \"agent\")"),
        };
    }

    /// <summary>Every key must be one of <paramref name="allowed"/>, once; the message names the first that is not.</summary>
    private static void CheckKeys(JsonElement element, string[] allowed, string where)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            string name;
            try
            {
                name = property.Name;
            }
            catch (InvalidOperationException)
            {
                throw new FormatException($"{where}a key is not valid Unicode text (it holds a lone surrogate escape such as \\udc00)");
            }
            if (!allowed.Contains(name, StringComparer.Ordinal))
            {
                string hint = name == "image" && where.Length > 0
                    ? " (the image belongs at the top level of the line, where it goes with the first user turn)"
                    : "";
                throw new FormatException($"{where}unknown key \"{Printable(name)}\"{hint} (expected {string.Join(", ", allowed.Select(k => $"\"{k}\""))})");
            }
            if (!seen.Add(name))
            {
                throw new FormatException($"{where}key \"{name}\" appears more than once");
            }
        }
    }

    private static string RequiredString(JsonElement element, string name, string label, string what)
    {
        if (!element.TryGetProperty(name, out var value))
        {
            throw new FormatException($"missing {what} (a string)");
        }
        return value.ValueKind == JsonValueKind.String
            ? Text(value, label)
            : throw new FormatException($"{label} must be a string, not {SafetyPolicyJson.Describe(value.ValueKind)}");
    }

    /// <summary>A JSON string as .NET text; a lone surrogate escape (<c>\udc00</c>) cannot be one and is named as such.</summary>
    private static string Text(JsonElement value, string label)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new FormatException($"{label} is not valid Unicode text (it holds a lone surrogate escape such as \\udc00)");
        }
    }

    /// <summary>A key as it may be shown in one line of text (control characters escaped).</summary>
    private static string Printable(string key) => JsonSerializer.Serialize(key)[1..^1];
}
