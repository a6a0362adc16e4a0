using System.Collections.Immutable;

namespace LlamaGuardSharp.Safety;

/// <summary>
/// Immutable step-by-step builder for a <see cref="Conversation"/>: each call returns a new builder, so a partial
/// conversation can be reused safely. Every call validates immediately, so an error points at the offending turn.
/// </summary>
public sealed class ConversationBuilder
{
    private readonly ImmutableList<ConversationTurn> _turns;

    private ConversationBuilder(ImmutableList<ConversationTurn> turns)
    {
        _turns = turns;
    }

    internal static ConversationBuilder Empty { get; } = new(ImmutableList<ConversationTurn>.Empty);

    /// <summary>Number of turns added so far.</summary>
    public int Count => _turns.Count;

    /// <summary>Adds a user message; <paramref name="text"/> may be blank when <paramref name="image"/> is given.</summary>
    /// <exception cref="ConversationException">roles would not alternate, a second image, or an empty turn.</exception>
    public ConversationBuilder User(string text, ConversationImage? image = null) => Add(new ConversationTurn(Role.User, text, image));

    /// <summary>Adds an agent (assistant) message.</summary>
    /// <exception cref="ConversationException">roles would not alternate, or blank text.</exception>
    public ConversationBuilder Agent(string text) => Add(new ConversationTurn(Role.Agent, text));

    /// <summary>Adds a turn.</summary>
    public ConversationBuilder Add(ConversationTurn turn)
    {
        ArgumentNullException.ThrowIfNull(turn);
        var turns = _turns.Add(turn);
        Conversation.ValidateAppend(turns, turns.Count - 1);
        return new ConversationBuilder(turns);
    }

    /// <summary>The finished conversation.</summary>
    /// <exception cref="ConversationException">no turn was added.</exception>
    public Conversation Build() => Conversation.FromTurns(_turns);
}
