using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// Something that classifies conversations with Llama Guard: the model in-process (<see cref="GuardModel"/>) or a
/// remote <c>llamaguard serve</c> (the client in <c>LlamaGuardSharp.Extensions.AI</c>). Both give the same verdicts.
/// </summary>
public interface IContentGuard
{
    /// <summary>
    /// Classifies the last turn of <paramref name="conversation"/> (User → prompt classification, Agent → response
    /// classification) against <paramref name="policy"/> (default: S1–S13).
    /// </summary>
    Task<SafetyVerdict> ClassifyAsync(Conversation conversation, SafetyPolicy? policy = null, CancellationToken cancellationToken = default);
}
