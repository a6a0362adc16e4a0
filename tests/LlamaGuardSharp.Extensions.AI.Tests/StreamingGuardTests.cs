using LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using Microsoft.Extensions.AI;

namespace LlamaGuardSharp.Extensions.AI.Tests;

/// <summary>Streaming through the guard in both modes, on the real tiny GuardModel (its verdicts are Unparseable; see LlamaGuardChatClientTests).</summary>
[Collection(TinyGuardCollection.Name)]
public sealed class StreamingGuardTests(TinyGuard tiny)
{
    private const string Answer = "one two three four five";

    private static ChatMessage[] Chat => [new(ChatRole.User, "Tell me a story")];

    private (IChatClient Client, ScriptedChatClient Inner) Build(Action<LlamaGuardChatOptions> configure)
    {
        var inner = new ScriptedChatClient(Answer);
        return (new ChatClientBuilder(inner).UseLlamaGuard(tiny.Model, configure).Build(), inner);
    }

    /// <summary>Reads the stream, noting for each update how many the inner client had produced when the caller got it.</summary>
    private static async Task<(List<ChatResponseUpdate> Updates, List<int> ProducedAtReceipt, Exception? Error)> ReadAsync(
        IChatClient client, ScriptedChatClient inner, CancellationToken cancellationToken = default)
    {
        var updates = new List<ChatResponseUpdate>();
        var produced = new List<int>();
        try
        {
            await foreach (var update in client.GetStreamingResponseAsync(Chat, cancellationToken: cancellationToken))
            {
                updates.Add(update);
                produced.Add(inner.UpdatesProduced);
            }
        }
        catch (Exception e)
        {
            return (updates, produced, e);
        }
        return (updates, produced, null);
    }

    [Fact]
    public async Task BufferUntilChecked_releases_the_answer_only_after_the_whole_of_it_passed()
    {
        var (client, inner) = Build(o => o.TreatUnparseableAsUnsafe = false);

        var (updates, produced, error) = await ReadAsync(client, inner);

        Assert.Null(error);
        Assert.All(produced, n => Assert.Equal(5, n)); // nothing reached the caller before the stream was complete
        var response = updates.ToChatResponse();
        Assert.Equal(Answer, response.Text);
        var expected = await tiny.Model.ClassifyAsync(Conversation.ForResponse("Tell me a story", Answer));
        // The verdicts ride on the stream's last update, after the text.
        var verdict = Assert.IsType<SafetyVerdict>(updates[^1].AdditionalProperties![LlamaGuardChatClient.OutputVerdictKey]);
        Assert.Equal(expected.UnsafeProbability, verdict.UnsafeProbability);
        Assert.IsType<SafetyVerdict>(updates[^1].AdditionalProperties![LlamaGuardChatClient.InputVerdictKey]);
        Assert.Empty(updates[^1].Contents);
    }

    [Fact]
    public async Task BufferUntilChecked_blocked_answer_throws_before_any_of_it_is_streamed()
    {
        var (client, inner) = Build(o => o.CheckInput = false);

        var (updates, _, error) = await ReadAsync(client, inner);

        var e = Assert.IsType<ContentGuardException>(error);
        Assert.Equal(GuardedSide.Output, e.Side);
        Assert.Empty(updates);
        Assert.True(inner.StreamCompleted);
    }

    [Fact]
    public async Task BufferUntilChecked_blocked_answer_with_Refuse_streams_only_the_refusal()
    {
        var (client, inner) = Build(o => { o.CheckInput = false; o.OnViolation = GuardViolationAction.Refuse; o.RefusalMessage = "No."; });

        var (updates, _, error) = await ReadAsync(client, inner);

        Assert.Null(error);
        var update = Assert.Single(updates);
        Assert.Equal("No.", update.Text);
        Assert.Equal(ChatFinishReason.ContentFilter, update.FinishReason);
        Assert.Equal(ScriptedChatClient.ResponseId, update.ResponseId);
        Assert.IsType<SafetyVerdict>(update.AdditionalProperties![LlamaGuardChatClient.OutputVerdictKey]);
    }

    [Fact]
    public async Task CheckAtEnd_streams_live_and_passes_the_verdicts_at_the_end()
    {
        var (client, inner) = Build(o => { o.TreatUnparseableAsUnsafe = false; o.StreamingMode = GuardStreamingMode.CheckAtEnd; });

        var (updates, produced, error) = await ReadAsync(client, inner);

        Assert.Null(error);
        Assert.Equal([1, 2, 3, 4, 5], produced.Take(5)); // each update reached the caller as it was produced
        var response = updates.ToChatResponse();
        Assert.Equal(Answer, response.Text);
        Assert.IsType<SafetyVerdict>(updates[^1].AdditionalProperties![LlamaGuardChatClient.OutputVerdictKey]);
    }

    [Fact]
    public async Task CheckAtEnd_blocked_answer_throws_after_the_live_text()
    {
        var (client, inner) = Build(o => { o.CheckInput = false; o.StreamingMode = GuardStreamingMode.CheckAtEnd; });

        var (updates, _, error) = await ReadAsync(client, inner);

        Assert.Equal(GuardedSide.Output, Assert.IsType<ContentGuardException>(error).Side);
        Assert.Equal(Answer, string.Concat(updates.Select(u => u.Text)));
    }

    [Fact]
    public async Task CheckAtEnd_blocked_answer_with_Refuse_appends_a_refusal_message_of_its_own()
    {
        var (client, inner) = Build(o => { o.CheckInput = false; o.StreamingMode = GuardStreamingMode.CheckAtEnd; o.OnViolation = GuardViolationAction.Refuse; });

        var (updates, _, error) = await ReadAsync(client, inner);

        Assert.Null(error);
        var response = updates.ToChatResponse();
        Assert.Equal(2, response.Messages.Count);
        Assert.Equal(Answer, response.Messages[0].Text);
        Assert.Equal(LlamaGuardChatOptions.DefaultRefusalMessage, response.Messages[1].Text);
        Assert.Equal(ChatFinishReason.ContentFilter, updates[^1].FinishReason);
    }

    [Theory]
    [InlineData(GuardStreamingMode.BufferUntilChecked)]
    [InlineData(GuardStreamingMode.CheckAtEnd)]
    public async Task A_blocked_input_never_starts_the_inner_stream(GuardStreamingMode mode)
    {
        var (throwing, inner) = Build(o => o.StreamingMode = mode);
        var (_, _, error) = await ReadAsync(throwing, inner);
        Assert.Equal(GuardedSide.Input, Assert.IsType<ContentGuardException>(error).Side);
        Assert.Equal(0, inner.Calls);

        var (refusing, inner2) = Build(o => { o.StreamingMode = mode; o.OnViolation = GuardViolationAction.Refuse; });
        var (updates, _, error2) = await ReadAsync(refusing, inner2);
        Assert.Null(error2);
        Assert.Equal(ChatFinishReason.ContentFilter, Assert.Single(updates).FinishReason);
        Assert.Equal(0, inner2.Calls);
    }

    [Theory]
    [InlineData(GuardStreamingMode.BufferUntilChecked)]
    [InlineData(GuardStreamingMode.CheckAtEnd)]
    public async Task Cancelling_mid_stream_stops_it_without_a_verdict(GuardStreamingMode mode)
    {
        var (client, inner) = Build(o => { o.TreatUnparseableAsUnsafe = false; o.StreamingMode = mode; });
        using var cts = new CancellationTokenSource();
        inner.BeforeUpdate = i => { if (i == 2) { cts.Cancel(); } };

        var (updates, _, error) = await ReadAsync(client, inner, cts.Token);

        Assert.IsAssignableFrom<OperationCanceledException>(error);
        Assert.False(inner.StreamCompleted);
        Assert.Equal(mode == GuardStreamingMode.CheckAtEnd ? 2 : 0, updates.Count);
        Assert.DoesNotContain(updates, u => u.AdditionalProperties?.ContainsKey(LlamaGuardChatClient.OutputVerdictKey) == true);
    }
}
