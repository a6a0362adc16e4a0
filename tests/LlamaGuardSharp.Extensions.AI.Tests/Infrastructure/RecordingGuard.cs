using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;

/// <summary>The real guard, with a record of the conversations it was asked to classify and an optional hook run first.</summary>
public sealed class RecordingGuard(IContentGuard inner) : IContentGuard
{
    public List<Conversation> Conversations { get; } = [];

    public Action? BeforeClassify { get; set; }

    public Task<SafetyVerdict> ClassifyAsync(Conversation conversation, SafetyPolicy? policy = null, CancellationToken cancellationToken = default)
    {
        Conversations.Add(conversation);
        BeforeClassify?.Invoke();
        return inner.ClassifyAsync(conversation, policy, cancellationToken);
    }
}
