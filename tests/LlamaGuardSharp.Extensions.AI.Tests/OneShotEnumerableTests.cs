using LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace LlamaGuardSharp.Extensions.AI.Tests;

/// <summary>The guard and the inner client both read the messages; a sequence that can be read once must still reach the inner client whole.</summary>
[Collection(TinyGuardCollection.Name)]
public sealed class OneShotEnumerableTests(TinyGuard tiny)
{
    private static IEnumerable<ChatMessage> Once()
    {
        yield return new ChatMessage(ChatRole.User, "Hello");
    }

    [Fact]
    public async Task Messages_given_as_a_one_shot_sequence_reach_the_inner_client()
    {
        var inner = new RecordingChatClient();
        var client = new ChatClientBuilder(inner).UseLlamaGuard(tiny.Model, o => { o.TreatUnparseableAsUnsafe = false; o.CheckOutput = false; }).Build();

        await client.GetResponseAsync(Once());

        Assert.Equal(["Hello"], inner.Seen.Select(m => m.Text));
    }

    private sealed class RecordingChatClient : IChatClient
    {
        public List<ChatMessage> Seen { get; } = [];

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Seen.AddRange(messages);
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hi")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
