using LlamaGuardSharp.Safety;
using Microsoft.Extensions.AI;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// The Llama Guard conversations that stand for a chat: Llama Guard needs turns alternating User, Agent, … starting
/// with the user and at most one image, while a chat may start with the assistant, hold system and tool messages,
/// repeat a role and carry several images. Invariants of what this builds: system and tool messages are left out
/// (they are the application's, not the user's); consecutive messages of one role are joined with a blank line;
/// leading assistant messages are dropped; only the images of the last user message are classified (earlier ones were
/// checked when they were sent), each in a conversation of its own with the text of the last user turn, because the service's
/// native API puts the image on the first user turn and both guards must see the same prompts.
/// </summary>
internal sealed class GuardConversations
{
    private readonly List<ConversationTurn> _history;
    private readonly string _lastUserText;
    private readonly IReadOnlyList<ConversationImage> _images;

    /// <summary>For a chat without a user message: the system messages' text, the user turn its answer is judged against.</summary>
    private readonly string? _answerContext;

    private GuardConversations(List<ConversationTurn> history, string lastUserText, IReadOnlyList<ConversationImage> images, string? answerContext = null)
    {
        _answerContext = answerContext;
        _history = history;
        _lastUserText = lastUserText;
        _images = images;
    }

    /// <summary>Reads the chat up to its last user message and resolves that message's images.</summary>
    /// <exception cref="UncheckableContentException">the last user message holds content the guard cannot check.</exception>
    public static async Task<GuardConversations> CreateAsync(IEnumerable<ChatMessage> messages, ChatImageResolver images, CancellationToken cancellationToken)
    {
        var list = messages as IList<ChatMessage> ?? messages.ToList();
        int lastUser = -1;
        for (int i = list.Count - 1; i >= 0; i--)
        {
            if (list[i].Role == ChatRole.User)
            {
                lastUser = i;
                break;
            }
        }
        var history = new List<ConversationTurn>();
        var resolved = new List<ConversationImage>();
        string lastUserText = "";
        if (lastUser < 0)
        {
            // No user message: nothing of the user's to judge. The answer was asked for by the system messages, so they
            // stand as its user turn (an answer is never let through unjudged for want of a user turn).
            string instructions = string.Join("\n\n", list.Where(m => m.Role == ChatRole.System && !string.IsNullOrWhiteSpace(m.Text)).Select(m => m.Text));
            return new GuardConversations(history, lastUserText, resolved, instructions.Length > 0 ? instructions : null);
        }
        foreach (var content in list[lastUser].Contents)
        {
            if (ChatImageResolver.IsAttachment(content))
            {
                resolved.Add(await images.ResolveAsync(content, cancellationToken).ConfigureAwait(false));
            }
        }
        for (int i = 0; i <= lastUser; i++)
        {
            var message = list[i];
            Role? role = message.Role == ChatRole.User ? Role.User : message.Role == ChatRole.Assistant ? Role.Agent : null;
            if (role is null || string.IsNullOrWhiteSpace(message.Text))
            {
                continue;
            }
            Append(history, role.Value, message.Text);
        }
        lastUserText = history.Count > 0 && history[^1].Role == Role.User && IsLastUserTextFrom(list, lastUser) ? history[^1].Text : "";
        return new GuardConversations(history, lastUserText, resolved);
    }

    /// <summary>
    /// The conversations that judge the user's input: the text history ending with the last user message, and one per
    /// image of that message (its text and the image). A single-turn chat with one image is one conversation.
    /// </summary>
    public IReadOnlyList<Conversation> ForInput()
    {
        var conversations = new List<Conversation>();
        bool singleUserTurn = _history.Count <= 1;
        if (_images.Count == 0 || !singleUserTurn)
        {
            var text = TrimToLastUser(_history);
            if (text.Count > 0)
            {
                conversations.Add(Conversation.FromTurns(text));
            }
        }
        foreach (var image in _images)
        {
            conversations.Add(Conversation.Create().User(_lastUserText, image).Build());
        }
        return conversations;
    }

    /// <summary>
    /// The conversation that judges <paramref name="answer"/>: the text history up to the last user message, then the
    /// answer as the agent's turn; a single-turn chat with one image keeps it (the image is the answer's context).
    /// Null when there is no user turn to answer.
    /// </summary>
    public Conversation? ForOutput(string answer)
    {
        var turns = TrimToLastUser(_history);
        if (turns.Count == 1 && _images.Count == 1 && _lastUserText.Length > 0)
        {
            turns[0] = new ConversationTurn(Role.User, _lastUserText, _images[0]);
        }
        else if (turns.Count == 0 && _images.Count == 1)
        {
            turns.Add(new ConversationTurn(Role.User, "", _images[0]));
        }
        if (turns.Count == 0 && _answerContext is not null)
        {
            turns.Add(new ConversationTurn(Role.User, _answerContext));
        }
        if (turns.Count == 0)
        {
            return null;
        }
        turns.Add(new ConversationTurn(Role.Agent, answer));
        return Conversation.FromTurns(turns);
    }

    private static void Append(List<ConversationTurn> turns, Role role, string text)
    {
        if (turns.Count == 0 && role == Role.Agent)
        {
            return; // Llama Guard conversations start with the user; an assistant greeting has nothing to judge.
        }
        if (turns.Count > 0 && turns[^1].Role == role)
        {
            turns[^1] = new ConversationTurn(role, turns[^1].Text + "\n\n" + text);
            return;
        }
        turns.Add(new ConversationTurn(role, text));
    }

    /// <summary>The history without trailing agent turns (when the last user message had no text, it ends earlier).</summary>
    private static List<ConversationTurn> TrimToLastUser(List<ConversationTurn> history)
    {
        var turns = new List<ConversationTurn>(history);
        while (turns.Count > 0 && turns[^1].Role == Role.Agent)
        {
            turns.RemoveAt(turns.Count - 1);
        }
        return turns;
    }

    /// <summary>Whether the last user message has text of its own (else the history's last user turn is an older one).</summary>
    private static bool IsLastUserTextFrom(IList<ChatMessage> messages, int lastUser) => !string.IsNullOrWhiteSpace(messages[lastUser].Text);
}
