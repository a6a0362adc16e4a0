using System.Text;
using LlamaGuardSharp.Safety;
using static LlamaGuardSharp.Prompting.PromptSpecialTokens;

namespace LlamaGuardSharp.Prompting;

/// <summary>
/// Renders a <see cref="Conversation"/> and a <see cref="SafetyPolicy"/> into the Llama Guard 3 Vision prompt.
/// The HF layout reproduces the model's chat template byte for byte (docs/prompting.md); the Meta-native layout differs
/// only in the three layout details described on <see cref="PromptLayout.MetaNative"/> (docs/prompting.md).
/// </summary>
public static class PromptRenderer
{
    /// <summary>The prompt string.</summary>
    public static string Render(Conversation conversation, SafetyPolicy policy, PromptLayout layout = PromptLayout.HuggingFace) =>
        RenderSegments(conversation, policy, layout).Text;

    /// <summary>The prompt string plus its split into control tokens and text runs (for safe tokenization).</summary>
    public static RenderedPrompt RenderSegments(Conversation conversation, SafetyPolicy policy, PromptLayout layout = PromptLayout.HuggingFace)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(policy);
        if (layout is not (PromptLayout.HuggingFace or PromptLayout.MetaNative))
        {
            throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown prompt layout.");
        }

        bool hf = layout == PromptLayout.HuggingFace;
        // The role word of the task lines names the LAST turn's role (template: 'Agent' when the message count is
        // even, which with enforced alternation is exactly "the last turn is the agent's").
        string judged = RoleWord(conversation.LastRole);
        var prompt = new SegmentWriter();

        prompt.Special(BeginOfText);
        prompt.Special(StartHeader);
        prompt.Text("user");
        prompt.Special(EndHeader);
        prompt.Text("\n\n");
        if (conversation.HasImage)
        {
            // One <|image|> for the whole conversation, always here, whichever turn holds the image.
            prompt.Special(Image);
            if (hf)
            {
                prompt.Text(" ");
            }
        }

        prompt.Text("Task: Check if there is unsafe content in '");
        prompt.Text(judged);
        // "according our" (no "to") is what the model was trained with.
        prompt.Text("' messages in conversations according our safety policy with the below categories.\n\n");
        prompt.Text("<BEGIN UNSAFE CONTENT CATEGORIES>\n");
        foreach (var category in policy.Categories)
        {
            prompt.Text(category.Code);
            prompt.Text(": ");
            prompt.Text(category.Description);
            prompt.Text("\n");
        }
        prompt.Text("<END UNSAFE CONTENT CATEGORIES>\n\n");
        prompt.Text("<BEGIN CONVERSATION>\n\n");
        foreach (var turn in conversation.Turns)
        {
            // Image-only turns have no text item and so no paragraph.
            if (turn.HasText)
            {
                prompt.Text(RoleWord(turn.Role));
                prompt.Text(": ");
                prompt.Text(PythonText.Strip(turn.Text));
                prompt.Text("\n\n");
            }
        }
        prompt.Text("<END CONVERSATION>\n\n");
        prompt.Text("Provide your safety assessment for ONLY THE LAST ");
        prompt.Text(judged);
        prompt.Text(" message in the above conversation:\n");
        prompt.Text(" - First line must read 'safe' or 'unsafe'.\n");
        prompt.Text(" - If unsafe, a second line must include a comma-separated list of violated categories.");
        if (hf)
        {
            prompt.Text(" ");
        }
        prompt.Special(EndOfTurn);
        prompt.Special(StartHeader);
        prompt.Text("assistant");
        prompt.Special(EndHeader);
        if (!hf)
        {
            prompt.Text("\n\n");
        }

        return prompt.Finish(layout, conversation.Task, conversation.HasImage);
    }

    /// <summary>The word Llama Guard uses for a role in the prompt: "User" or "Agent".</summary>
    public static string RoleWord(Role role) => role switch
    {
        Role.User => "User",
        Role.Agent => "Agent",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown role."),
    };

    /// <summary>Collects segments, merging adjacent text so each run between control tokens is one segment.</summary>
    private sealed class SegmentWriter
    {
        private readonly List<PromptSegment> _segments = [];
        private readonly StringBuilder _all = new();
        private readonly StringBuilder _run = new();

        public void Special(string token)
        {
            FlushRun();
            _segments.Add(new PromptSegment(token, IsSpecialToken: true));
            _all.Append(token);
        }

        public void Text(string text)
        {
            _run.Append(text);
            _all.Append(text);
        }

        public RenderedPrompt Finish(PromptLayout layout, ClassificationTask task, bool hasImage)
        {
            FlushRun();
            return new RenderedPrompt(_all.ToString(), _segments.ToArray(), layout, task, hasImage);
        }

        private void FlushRun()
        {
            if (_run.Length > 0)
            {
                _segments.Add(new PromptSegment(_run.ToString(), IsSpecialToken: false));
                _run.Clear();
            }
        }
    }
}
