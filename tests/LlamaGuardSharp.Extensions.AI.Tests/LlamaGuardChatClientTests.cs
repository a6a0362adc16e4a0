using LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using Microsoft.Extensions.AI;

namespace LlamaGuardSharp.Extensions.AI.Tests;

/// <summary>
/// The middleware on the real tiny GuardModel. Its generated text is not Llama Guard grammar, so every verdict is
/// Unparseable (blocked by default: fail closed); the tests that need a verdict to pass turn
/// TreatUnparseableAsUnsafe off, and the threshold tests use the model's own p(unsafe) for the conversations.
/// </summary>
[Collection(TinyGuardCollection.Name)]
public sealed class LlamaGuardChatClientTests(TinyGuard tiny)
{
    private const string Question = "Hello";
    private const string Answer = "Sure, here is how";

    private static ChatMessage[] Chat => [new(ChatRole.System, "You are a helpful assistant."), new(ChatRole.User, Question)];

    private (IChatClient Client, ScriptedChatClient Inner, RecordingGuard Guard) Build(Action<LlamaGuardChatOptions>? configure = null)
    {
        var inner = new ScriptedChatClient(Answer);
        var guard = new RecordingGuard(tiny.Model);
        var client = new ChatClientBuilder(inner).UseLlamaGuard(guard, configure).Build();
        return (client, inner, guard);
    }

    private Task<SafetyVerdict> InputVerdict() => tiny.Model.ClassifyAsync(Conversation.ForPrompt(Question));

    private Task<SafetyVerdict> OutputVerdict() => tiny.Model.ClassifyAsync(Conversation.ForResponse(Question, Answer));

    private static void AssertSameVerdict(SafetyVerdict expected, object? actual)
    {
        var verdict = Assert.IsType<SafetyVerdict>(actual);
        Assert.Equal(expected.Kind, verdict.Kind);
        Assert.Equal(expected.Task, verdict.Task);
        Assert.Equal(expected.UnsafeProbability, verdict.UnsafeProbability);
        Assert.Equal(expected.RawOutput, verdict.RawOutput);
    }

    [Fact]
    public async Task Default_options_fail_closed_on_an_unparseable_input_and_never_call_the_inner_client()
    {
        var (client, inner, guard) = Build();

        var e = await Assert.ThrowsAsync<ContentGuardException>(() => client.GetResponseAsync(Chat));

        Assert.Equal(GuardedSide.Input, e.Side);
        Assert.Equal(VerdictKind.Unparseable, e.Verdict.Kind);
        Assert.StartsWith("The user's input got a verdict", e.Message);
        Assert.Contains("fail closed", e.Message);
        AssertSameVerdict(await InputVerdict(), e.Verdict);
        Assert.Equal(0, inner.Calls);
        var judged = Assert.Single(guard.Conversations);
        Assert.Equal(ClassificationTask.PromptClassification, judged.Task);
        Assert.Equal(Question, Assert.Single(judged.Turns).Text); // the system message is the application's, not judged
    }

    [Fact]
    public async Task Refuse_answers_with_a_content_filter_refusal_instead_of_throwing()
    {
        var (client, inner, _) = Build(o =>
        {
            o.OnViolation = GuardViolationAction.Refuse;
            o.RefusalMessage = "Blocked by policy.";
        });

        var response = await client.GetResponseAsync(Chat);

        Assert.Equal(0, inner.Calls);
        Assert.Equal(ChatFinishReason.ContentFilter, response.FinishReason);
        Assert.Equal("Blocked by policy.", response.Text);
        Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
        AssertSameVerdict(await InputVerdict(), response.AdditionalProperties![LlamaGuardChatClient.InputVerdictKey]);
        Assert.False(response.AdditionalProperties.ContainsKey(LlamaGuardChatClient.OutputVerdictKey));
    }

    [Fact]
    public async Task An_allowed_exchange_returns_the_inner_answer_with_both_verdicts()
    {
        var (client, inner, guard) = Build(o => o.TreatUnparseableAsUnsafe = false);

        var response = await client.GetResponseAsync(Chat);

        Assert.Equal(1, inner.Calls);
        Assert.Equal(Answer, response.Text);
        Assert.Equal(ScriptedChatClient.ResponseId, response.ResponseId);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        AssertSameVerdict(await InputVerdict(), response.AdditionalProperties![LlamaGuardChatClient.InputVerdictKey]);
        AssertSameVerdict(await OutputVerdict(), response.AdditionalProperties[LlamaGuardChatClient.OutputVerdictKey]);
        Assert.Equal(2, guard.Conversations.Count);
        Assert.Equal(ClassificationTask.ResponseClassification, guard.Conversations[1].Task);
        Assert.Equal([Question, Answer], guard.Conversations[1].Turns.Select(t => t.Text));
    }

    [Fact]
    public async Task With_CheckInput_off_the_answer_is_still_judged_and_blocked()
    {
        var (client, inner, guard) = Build(o => o.CheckInput = false);

        var e = await Assert.ThrowsAsync<ContentGuardException>(() => client.GetResponseAsync(Chat));

        Assert.Equal(GuardedSide.Output, e.Side);
        Assert.Equal(1, inner.Calls);
        AssertSameVerdict(await OutputVerdict(), e.Verdict);
        Assert.Equal(ClassificationTask.ResponseClassification, Assert.Single(guard.Conversations).Task);
    }

    [Fact]
    public async Task With_CheckOutput_off_only_the_input_is_judged()
    {
        var (client, inner, guard) = Build(o => { o.CheckOutput = false; o.TreatUnparseableAsUnsafe = false; });

        var response = await client.GetResponseAsync(Chat);

        Assert.Equal(Answer, response.Text);
        Assert.Equal(1, inner.Calls);
        Assert.Equal(ClassificationTask.PromptClassification, Assert.Single(guard.Conversations).Task);
        Assert.False(response.AdditionalProperties!.ContainsKey(LlamaGuardChatClient.OutputVerdictKey));
    }

    [Fact]
    public async Task With_both_checks_off_nothing_is_classified()
    {
        var (client, inner, guard) = Build(o => { o.CheckInput = false; o.CheckOutput = false; });

        var response = await client.GetResponseAsync(Chat);

        Assert.Equal(Answer, response.Text);
        Assert.Empty(guard.Conversations);
        Assert.Null(response.AdditionalProperties);
    }

    [Fact]
    public async Task An_output_violation_with_Refuse_replaces_the_answer_and_keeps_the_response_identity()
    {
        var (client, inner, _) = Build(o => { o.CheckInput = false; o.OnViolation = GuardViolationAction.Refuse; });

        var response = await client.GetResponseAsync(Chat);

        Assert.Equal(1, inner.Calls);
        Assert.Equal(LlamaGuardChatOptions.DefaultRefusalMessage, response.Text);
        Assert.DoesNotContain(Answer, response.Text);
        Assert.Equal(ChatFinishReason.ContentFilter, response.FinishReason);
        Assert.Equal(ScriptedChatClient.ResponseId, response.ResponseId);
        Assert.Equal(ScriptedChatClient.ModelId, response.ModelId);
        AssertSameVerdict(await OutputVerdict(), response.AdditionalProperties![LlamaGuardChatClient.OutputVerdictKey]);
    }

    [Fact]
    public async Task The_threshold_on_p_unsafe_decides_each_side()
    {
        double pInput = (await InputVerdict()).UnsafeProbability;
        double pOutput = (await OutputVerdict()).UnsafeProbability;
        Assert.True(pOutput > pInput, $"fixture: the answer's p(unsafe) {pOutput} should exceed the question's {pInput}");

        // At the answer's p(unsafe): the question passes, the answer is blocked (the rule is p ≥ threshold).
        var (atOutput, inner, _) = Build(o => { o.TreatUnparseableAsUnsafe = false; o.UnsafeThreshold = pOutput; });
        var e = await Assert.ThrowsAsync<ContentGuardException>(() => atOutput.GetResponseAsync(Chat));
        Assert.Equal(GuardedSide.Output, e.Side);
        Assert.Contains("reached the unsafe threshold", e.Message);
        Assert.Equal(1, inner.Calls);

        // Just above it, both pass.
        var (above, _, _) = Build(o => { o.TreatUnparseableAsUnsafe = false; o.UnsafeThreshold = Math.BitIncrement(pOutput); });
        Assert.Equal(Answer, (await above.GetResponseAsync(Chat)).Text);

        // At the question's p(unsafe), the input is blocked before the inner client.
        var (atInput, innerAtInput, _) = Build(o => { o.TreatUnparseableAsUnsafe = false; o.UnsafeThreshold = pInput; });
        Assert.Equal(GuardedSide.Input, (await Assert.ThrowsAsync<ContentGuardException>(() => atInput.GetResponseAsync(Chat))).Side);
        Assert.Equal(0, innerAtInput.Calls);

        // A threshold does not turn fail-closed off: an unparseable verdict still blocks when the option is on.
        var (failClosed, _, _) = Build(o => o.UnsafeThreshold = 1.0);
        Assert.Equal(GuardedSide.Input, (await Assert.ThrowsAsync<ContentGuardException>(() => failClosed.GetResponseAsync(Chat))).Side);
    }

    [Fact]
    public async Task The_policy_is_passed_to_the_guard()
    {
        var policy = SafetyPolicy.Default.Exclude("S6", "S7");
        var (client, _, _) = Build(o => { o.Policy = policy; o.TreatUnparseableAsUnsafe = false; o.CheckOutput = false; });

        var response = await client.GetResponseAsync(Chat);

        var expected = await tiny.Model.ClassifyAsync(Conversation.ForPrompt(Question), policy);
        AssertSameVerdict(expected, response.AdditionalProperties![LlamaGuardChatClient.InputVerdictKey]);
        Assert.Equal(expected.PromptTokenCount, ((SafetyVerdict)response.AdditionalProperties[LlamaGuardChatClient.InputVerdictKey]!).PromptTokenCount);
        Assert.NotEqual((await InputVerdict()).PromptTokenCount, expected.PromptTokenCount);
    }

    [Fact]
    public async Task Without_a_user_message_the_answer_is_judged_against_the_system_messages()
    {
        var (client, inner, guard) = Build(o => o.TreatUnparseableAsUnsafe = false);

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.System, "Write a poem about the sea.")]);

        Assert.Equal(1, inner.Calls);
        var judged = Assert.Single(guard.Conversations); // no user input to judge; the answer is
        Assert.Equal(["Write a poem about the sea.", Answer], judged.Turns.Select(t => t.Text));
        Assert.Equal(ClassificationTask.ResponseClassification, judged.Task);
        Assert.IsType<SafetyVerdict>(response.AdditionalProperties![LlamaGuardChatClient.OutputVerdictKey]);
    }

    [Fact]
    public void Out_of_range_options_are_rejected_when_the_pipeline_is_built()
    {
        var inner = new ScriptedChatClient(Answer);
        Assert.Throws<ArgumentOutOfRangeException>(() => new ChatClientBuilder(inner).UseLlamaGuard(tiny.Model, o => o.UnsafeThreshold = 1.5).Build());
        Assert.Throws<ArgumentException>(() => new ChatClientBuilder(inner).UseLlamaGuard(tiny.Model, o => o.RefusalMessage = " ").Build());
    }

    [Fact]
    public void Without_a_guard_or_a_registered_one_building_fails_with_a_clear_message()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new ChatClientBuilder(new ScriptedChatClient(Answer)).UseLlamaGuard().Build());
        Assert.Contains("AddLlamaGuard", e.Message);
    }

    [Fact]
    public async Task A_cancelled_call_stops_in_the_guard_and_never_reaches_the_inner_client()
    {
        var (client, inner, guard) = Build(o => o.TreatUnparseableAsUnsafe = false);
        using var cts = new CancellationTokenSource();
        guard.BeforeClassify = cts.Cancel; // cancelled while the model is about to run

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetResponseAsync(Chat, cancellationToken: cts.Token));

        Assert.Equal(0, inner.Calls);
    }
}
