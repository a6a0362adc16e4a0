using System.Text.Json;
using LlamaGuardSharp.Evaluation;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// One line of an <c>eval --input</c> file: a <c>classify --input</c> conversation line plus <c>"label": "safe"|"unsafe"</c>
/// and optional <c>"categories": ["S1", …]</c> (the true categories), e.g.
/// <c>{"id": "q17", "user": "…", "label": "unsafe", "categories": ["S2"]}</c>. A line without an id is known by its
/// line number (<c>line-17</c>), so a resumed run recognises it as long as the file is unchanged.
/// </summary>
/// <param name="Problem">Why the line cannot be an item (not JSON, a bad or repeated id), or null. Bad lines keep their
/// place in the input order, so that <c>--limit</c> and <c>--shuffle</c> report exactly the bad lines they select.</param>
internal sealed record EvalInputLine(int LineNumber, string Id, string Text, string? Problem = null)
{
    private static readonly string[] EvalKeys = ["label", "categories"];

    /// <summary>
    /// The non-blank lines of <paramref name="path"/> with their ids (the JSON is only read for the id here; the
    /// conversation is parsed when the line's turn comes). A line that is not a JSON object, has a bad id or repeats an
    /// id carries its <see cref="Problem"/>.
    /// </summary>
    public static async Task<IReadOnlyList<EvalInputLine>> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var lines = new List<EvalInputLine>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int number = 0;
        using var reader = new StreamReader(path);
        while (await reader.ReadLineAsync(cancellationToken) is { } text)
        {
            number++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            try
            {
                string id = ReadId(text) ?? $"line-{number}";
                lines.Add(seen.Add(id)
                    ? new EvalInputLine(number, id, text)
                    : new EvalInputLine(number, id, text, $"id \"{id}\" appears again; the first occurrence is evaluated"));
            }
            catch (FormatException e)
            {
                lines.Add(new EvalInputLine(number, $"line-{number}", text, e.Message));
            }
        }
        return lines;
    }

    private static string? ReadId(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("expected a JSON object");
            }
            return !root.TryGetProperty("id", out var id) ? null : id.ValueKind switch
            {
                JsonValueKind.String when id.GetString() is { Length: > 0 } s => s,
                JsonValueKind.Number => id.GetRawText(),
                _ => throw new FormatException("\"id\" must be a non-empty string or a number"),
            };
        }
        catch (JsonException e)
        {
            throw new FormatException($"not valid JSON ({e.Message})");
        }
    }

    /// <summary>The conversation (cut to <paramref name="task"/>), the label and the true categories of this line.</summary>
    /// <exception cref="FormatException">The line is not an evaluation item; the message says why.</exception>
    public async Task<(Conversation Conversation, bool IsUnsafe, IReadOnlyList<string>? Categories)> ParseAsync(
        string baseDirectory, EvalTask task, CancellationToken cancellationToken)
    {
        if (Problem is not null)
        {
            throw new FormatException(Problem);
        }
        bool isUnsafe;
        IReadOnlyList<string>? categories;
        using (var document = JsonDocument.Parse(Text))
        {
            var root = document.RootElement;
            isUnsafe = root.TryGetProperty("label", out var label)
                ? ResultsFile.ParseLabel(label)
                : throw new FormatException("missing \"label\" (\"safe\" or \"unsafe\")");
            categories = ResultsFile.OptionalCodes(root, "categories");
        }
        var conversation = (await ConversationLine.ParseAsync(Text, ImagePathResolver.RelativeTo(baseDirectory), cancellationToken, EvalKeys)).Conversation;
        return (ForTask(conversation, task), isUnsafe, categories);
    }

    private static Conversation ForTask(Conversation conversation, EvalTask task)
    {
        switch (task)
        {
            case EvalTask.Prompt when conversation.LastRole == Role.Agent:
                int lastUser = conversation.Turns.Count - 1;
                while (lastUser >= 0 && conversation.Turns[lastUser].Role != Role.User) lastUser--;
                return lastUser < 0
                    ? throw new FormatException("has no user turn to classify (--task prompt)")
                    : Conversation.FromTurns(conversation.Turns.Take(lastUser + 1));
            case EvalTask.Response when conversation.LastRole != Role.Agent:
                throw new FormatException("does not end with an agent turn to classify (--task response)");
            default:
                return conversation;
        }
    }
}

/// <summary><c>eval --task</c>: what each conversation is classified for.</summary>
internal enum EvalTask
{
    /// <summary>From the last turn (user: prompt classification; agent: response classification).</summary>
    Auto,

    /// <summary>The conversation up to its last user turn.</summary>
    Prompt,

    /// <summary>The agent's last turn; a conversation that does not end with one is a bad line.</summary>
    Response,
}
