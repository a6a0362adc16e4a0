using System.Collections.Immutable;

namespace LlamaGuardSharp.Safety;

/// <summary>
/// An immutable, validated conversation for Llama Guard: turns alternate User, Agent, User, ... starting with the
/// user (the HF chat template raises otherwise), at most one image in total and only on a User turn, at least one
/// turn. The last turn decides the <see cref="Task"/>.
/// </summary>
/// <example><code>
/// var conversation = Conversation.Create()
///     .User("How do I make this at home?", image)
///     .Agent("Mix two egg yolks with ...")
///     .Build();
/// </code></example>
public sealed class Conversation
{
    private readonly ImmutableArray<ConversationTurn> _turns;

    private Conversation(ImmutableArray<ConversationTurn> turns)
    {
        _turns = turns;
    }

    /// <summary>The turns in order.</summary>
    public IReadOnlyList<ConversationTurn> Turns => _turns;

    /// <summary>Role of the last turn, the one being judged.</summary>
    public Role LastRole => _turns[^1].Role;

    /// <summary>Prompt classification when the last turn is the user's, response classification when it is the agent's.</summary>
    public ClassificationTask Task =>
        LastRole == Role.User ? ClassificationTask.PromptClassification : ClassificationTask.ResponseClassification;

    /// <summary>The conversation's image, if any (there is at most one).</summary>
    public ConversationImage? Image
    {
        get
        {
            foreach (var turn in _turns)
            {
                if (turn.Image is not null)
                {
                    return turn.Image;
                }
            }
            return null;
        }
    }

    public bool HasImage => Image is not null;

    /// <summary>Starts an empty builder; add turns with <c>User(...)</c> / <c>Agent(...)</c>, finish with <c>Build()</c>.</summary>
    public static ConversationBuilder Create() => ConversationBuilder.Empty;

    /// <summary>A validated conversation from turns.</summary>
    /// <exception cref="ConversationException">a conversation rule is broken (see the class summary).</exception>
    public static Conversation FromTurns(IEnumerable<ConversationTurn> turns)
    {
        ArgumentNullException.ThrowIfNull(turns);
        var array = turns.ToImmutableArray();
        for (int i = 0; i < array.Length; i++)
        {
            ValidateAppend(array, i);
        }
        if (array.IsEmpty)
        {
            throw new ConversationException(ConversationProblem.Empty, "The conversation has no turn; add at least one User turn.");
        }
        return new Conversation(array);
    }

    /// <summary>Prompt classification of one user message (optionally with the image).</summary>
    public static Conversation ForPrompt(string userText, ConversationImage? image = null) =>
        Create().User(userText, image).Build();

    /// <summary>Response classification of one user message (optionally with the image) and the agent's answer.</summary>
    public static Conversation ForResponse(string userText, string agentText, ConversationImage? image = null) =>
        Create().User(userText, image).Agent(agentText).Build();

    /// <summary>
    /// Checks that <c>turns[index]</c> may follow <c>turns[..index]</c>. All rules except non-emptiness hold for every
    /// prefix, so the builder can report a broken rule at the call that breaks it.
    /// </summary>
    internal static void ValidateAppend(IReadOnlyList<ConversationTurn> turns, int index)
    {
        var turn = turns[index] ?? throw new ArgumentNullException(nameof(turns), $"Turn {index} is null.");
        var expected = index % 2 == 0 ? Role.User : Role.Agent;
        if (turn.Role != expected)
        {
            throw new ConversationException(ConversationProblem.RolesDoNotAlternate, index == 0
                ? "The conversation must start with a User turn."
                : $"Turn {index + 1} is a {turn.Role} turn but follows a {turns[index - 1].Role} turn; roles must alternate User, Agent, User, ...");
        }
        if (turn.HasImage)
        {
            for (int i = 0; i < index; i++)
            {
                if (turns[i].HasImage)
                {
                    throw new ConversationException(ConversationProblem.TooManyImages,
                        $"Turn {index + 1} carries a second image (the first is on turn {i + 1}); Llama Guard 3 Vision accepts exactly one image per conversation.");
                }
            }
        }
    }

    public override string ToString() =>
        string.Join(" | ", _turns.Select(t => $"{t.Role}: {t.Text}{(t.HasImage ? " [image]" : "")}"));
}
