namespace LlamaGuardSharp.Safety;

/// <summary>Which conversation rule was broken.</summary>
public enum ConversationProblem
{
    /// <summary>The conversation has no turn.</summary>
    Empty,

    /// <summary>The first turn is not the user's, or two turns of the same role follow each other.</summary>
    RolesDoNotAlternate,

    /// <summary>More than one image in the conversation (Llama Guard 3 Vision supports exactly one).</summary>
    TooManyImages,

    /// <summary>An image on an Agent turn (images are user input only).</summary>
    ImageOnAgentTurn,

    /// <summary>A turn with neither text nor image.</summary>
    EmptyTurn,

    /// <summary>The image has no bytes.</summary>
    EmptyImage,
}

/// <summary>A conversation cannot be classified as built; <see cref="Problem"/> says which rule was broken.</summary>
public sealed class ConversationException : Exception
{
    public ConversationException(ConversationProblem problem, string message)
        : base(message)
    {
        Problem = problem;
    }

    public ConversationProblem Problem { get; }
}
