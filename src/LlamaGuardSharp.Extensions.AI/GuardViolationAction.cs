namespace LlamaGuardSharp.Extensions.AI;

/// <summary>What the guard middleware does when a side of the conversation is judged unsafe.</summary>
public enum GuardViolationAction
{
    /// <summary>Throw a <see cref="ContentGuardException"/> carrying the verdict and the side (the default).</summary>
    Throw,

    /// <summary>
    /// Answer with a refusal: an assistant message with <see cref="LlamaGuardChatOptions.RefusalMessage"/> and
    /// <c>FinishReason = ChatFinishReason.ContentFilter</c>; the verdict is in the response's additional properties.
    /// </summary>
    Refuse,
}
