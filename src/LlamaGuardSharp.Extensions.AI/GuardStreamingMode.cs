namespace LlamaGuardSharp.Extensions.AI;

/// <summary>How the guard middleware treats a streamed answer when <see cref="LlamaGuardChatOptions.CheckOutput"/> is on.</summary>
public enum GuardStreamingMode
{
    /// <summary>
    /// Collect the whole answer from the inner client, classify it, and only then stream it to the caller (the default):
    /// the caller never sees text that has not passed the guard, at the price of the first token arriving late.
    /// </summary>
    BufferUntilChecked,

    /// <summary>
    /// Stream the answer live and classify the full text at the end; on a violation, throw or append a refusal update
    /// (<c>FinishReason = ContentFilter</c>). The caller has already shown the text and must retract it.
    /// </summary>
    CheckAtEnd,
}
