namespace LlamaGuardSharp.Extensions.AI;

/// <summary>Which side of a chat exchange the guard judged.</summary>
public enum GuardedSide
{
    /// <summary>The user's input (prompt classification), checked before the inner client is called.</summary>
    Input,

    /// <summary>The assistant's answer (response classification, the conversation as context), checked after it.</summary>
    Output,
}
