namespace LlamaGuardSharp.Safety;

/// <summary>
/// What Llama Guard is asked to judge; it always judges the LAST turn (model card): the user's input when the
/// conversation ends with a User turn, the assistant's answer when it ends with an Agent turn.
/// </summary>
public enum ClassificationTask
{
    /// <summary>The last turn is the user's: is the user's request unsafe?</summary>
    PromptClassification,

    /// <summary>The last turn is the agent's: is the agent's response unsafe?</summary>
    ResponseClassification,
}
