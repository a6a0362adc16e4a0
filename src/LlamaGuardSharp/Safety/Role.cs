namespace LlamaGuardSharp.Safety;

/// <summary>Who wrote a conversation turn, in Llama Guard's words: the human "User" or the assistant "Agent".</summary>
public enum Role
{
    User,
    Agent,
}
