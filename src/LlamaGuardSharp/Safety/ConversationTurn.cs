using LlamaGuardSharp.Prompting;

namespace LlamaGuardSharp.Safety;

/// <summary>
/// One message of a conversation. A turn whose text is blank carries no text item (the prompt shows no
/// "User: ..." paragraph for it, like an HF message whose content is only an image), so it needs the image.
/// </summary>
public sealed record ConversationTurn
{
    /// <exception cref="ConversationException">an image on an Agent turn, or neither text nor image.</exception>
    public ConversationTurn(Role role, string text, ConversationImage? image = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (role is not (Role.User or Role.Agent))
        {
            throw new ArgumentOutOfRangeException(nameof(role), role, "Role must be User or Agent.");
        }
        if (image is not null && role != Role.User)
        {
            throw new ConversationException(ConversationProblem.ImageOnAgentTurn,
                "Only a User turn can carry the image; Llama Guard 3 Vision judges images supplied as user input.");
        }
        if (image is null && PythonText.IsBlank(text))
        {
            throw new ConversationException(ConversationProblem.EmptyTurn,
                $"A {role} turn needs text (only a User turn carrying the image may have no text).");
        }

        Role = role;
        Text = text;
        Image = image;
    }

    public Role Role { get; }

    /// <summary>The message text as given; the prompt shows it with surrounding whitespace stripped.</summary>
    public string Text { get; }

    /// <summary>The image attached to this turn, if any (User turns only).</summary>
    public ConversationImage? Image { get; }

    public bool HasImage => Image is not null;

    /// <summary>False when the text is blank (an image-only User turn).</summary>
    public bool HasText => !PythonText.IsBlank(Text);
}
