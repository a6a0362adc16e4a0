using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;

/// <summary>
/// Stands for the application's LLM behind the guard: answers every call with <see cref="Answer"/> (streamed in
/// word-sized updates of one message) and records what it was asked and how far a stream got.
/// </summary>
public sealed class ScriptedChatClient(string answer) : IChatClient
{
    public string Answer { get; } = answer;

    public int Calls { get; private set; }

    /// <summary>Updates the stream has produced so far (the guard may hold them back from the caller).</summary>
    public int UpdatesProduced { get; private set; }

    /// <summary>True once the stream produced its last update.</summary>
    public bool StreamCompleted { get; private set; }

    /// <summary>Called before each streamed update (e.g. to cancel mid-stream).</summary>
    public Action<int>? BeforeUpdate { get; set; }

    public const string ResponseId = "resp-scripted";
    public const string ModelId = "scripted-llm";

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Calls++;
        return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, Answer))
        {
            ResponseId = ResponseId,
            ModelId = ModelId,
            FinishReason = ChatFinishReason.Stop,
        });
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Calls++;
        var words = Answer.Split(' ');
        for (int i = 0; i < words.Length; i++)
        {
            BeforeUpdate?.Invoke(i);
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            UpdatesProduced++;
            yield return new ChatResponseUpdate(ChatRole.Assistant, i == 0 ? words[i] : " " + words[i])
            {
                MessageId = "msg-scripted",
                ResponseId = ResponseId,
                ModelId = ModelId,
                FinishReason = i == words.Length - 1 ? ChatFinishReason.Stop : null,
            };
        }
        StreamCompleted = true;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
