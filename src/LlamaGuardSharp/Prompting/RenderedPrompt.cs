namespace LlamaGuardSharp.Prompting;

/// <summary>A rendered Llama Guard prompt: the exact string and the same string split into control tokens and text.</summary>
/// <param name="Text">The full prompt string (what the HF template returns for <see cref="PromptLayout.HuggingFace"/>).</param>
/// <param name="Segments">Control tokens and text runs, in order; their concatenation is <paramref name="Text"/>.
/// Adjacent text runs are merged.</param>
/// <param name="Layout">Layout used.</param>
/// <param name="Task">Prompt or response classification (from the last turn).</param>
/// <param name="HasImage">Whether <c>&lt;|image|&gt;</c> is in the prompt.</param>
public sealed record RenderedPrompt(
    string Text,
    IReadOnlyList<PromptSegment> Segments,
    PromptLayout Layout,
    Safety.ClassificationTask Task,
    bool HasImage);
