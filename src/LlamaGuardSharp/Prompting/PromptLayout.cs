namespace LlamaGuardSharp.Prompting;

/// <summary>Which of the two published Llama Guard 3 Vision prompt layouts to render (docs/prompting.md).</summary>
public enum PromptLayout
{
    /// <summary>
    /// Byte-exact output of the model's HF chat template: <c>&lt;|image|&gt; </c> (with a space) before "Task",
    /// a space before <c>&lt;|eot_id|&gt;</c>, and the prompt ends at the assistant header without "\n\n", so the
    /// model's first generated token is "\n\n" (271) and the verdict comes second.
    /// </summary>
    HuggingFace,

    /// <summary>
    /// Meta's native layout (llama-models ChatFormat, as llama-stack sends it): <c>&lt;|image|&gt;</c> directly
    /// followed by "Task", no space before <c>&lt;|eot_id|&gt;</c>, and "\n\n" after the assistant header, so the
    /// first generated token is the verdict. The text between is the same as the HF layout's (role word "Agent",
    /// texts stripped) — see docs/prompting.md for why.
    /// </summary>
    MetaNative,
}
