using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>The in-process <see cref="IContentGuard"/> of <c>AddLlamaGuard</c>: the model its <see cref="GuardModelHost"/> loads, waited for on first use.</summary>
internal sealed class HostedGuardModel(GuardModelHost host) : IContentGuard
{
    public async Task<SafetyVerdict> ClassifyAsync(Conversation conversation, SafetyPolicy? policy = null, CancellationToken cancellationToken = default)
    {
        host.EnsureLoading();
        var model = await host.Model.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await model.ClassifyAsync(conversation, policy, cancellationToken).ConfigureAwait(false);
    }
}
