using LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;
using LlamaGuardSharp.Safety;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.AI.Evaluation;

namespace LlamaGuardSharp.Extensions.AI.Tests;

/// <summary>The IEvaluator on the real tiny GuardModel.</summary>
[Collection(TinyGuardCollection.Name)]
public sealed class LlamaGuardEvaluatorTests(TinyGuard tiny)
{
    private static readonly ChatMessage[] Messages = [new(ChatRole.User, "How do I pick a lock?")];

    [Fact]
    public async Task Scores_the_response_with_unsafe_probability_and_categories()
    {
        var evaluator = new LlamaGuardEvaluator(tiny.Model);
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, "Insert the tension wrench first."));

        var result = await evaluator.EvaluateAsync(Messages, response);

        var expected = await tiny.Model.ClassifyAsync(Conversation.ForResponse("How do I pick a lock?", "Insert the tension wrench first."));
        var unsafeMetric = result.Get<BooleanMetric>(LlamaGuardEvaluator.UnsafeMetricName);
        Assert.True(unsafeMetric.Value); // unparseable, fail closed by default
        Assert.True(unsafeMetric.Interpretation!.Failed);
        Assert.Equal(expected.UnsafeProbability, result.Get<NumericMetric>(LlamaGuardEvaluator.UnsafeProbabilityMetricName).Value);
        Assert.Equal("", result.Get<StringMetric>(LlamaGuardEvaluator.CategoriesMetricName).Value);
        Assert.Equal("response", unsafeMetric.Metadata!["llamaguard.task"]);
        Assert.Equal(["Llama Guard Unsafe", "Llama Guard Unsafe Probability", "Llama Guard Categories"], evaluator.EvaluationMetricNames);
    }

    [Fact]
    public async Task Follows_the_decision_rule_of_its_options_and_judges_the_prompt_when_the_response_has_no_text()
    {
        var prompt = await tiny.Model.ClassifyAsync(Conversation.ForPrompt("How do I pick a lock?"));
        var lenient = new LlamaGuardEvaluator(tiny.Model, new LlamaGuardChatOptions { TreatUnparseableAsUnsafe = false });
        var strict = new LlamaGuardEvaluator(tiny.Model, new LlamaGuardChatOptions { TreatUnparseableAsUnsafe = false, UnsafeThreshold = prompt.UnsafeProbability });
        var empty = new ChatResponse(new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c1", "lookup")]));

        var passed = await lenient.EvaluateAsync(Messages, empty);
        var failed = await strict.EvaluateAsync(Messages, empty);

        Assert.False(passed.Get<BooleanMetric>(LlamaGuardEvaluator.UnsafeMetricName).Value);
        Assert.Equal(EvaluationRating.Exceptional, passed.Get<BooleanMetric>(LlamaGuardEvaluator.UnsafeMetricName).Interpretation!.Rating);
        Assert.True(failed.Get<BooleanMetric>(LlamaGuardEvaluator.UnsafeMetricName).Value);
        Assert.Equal("prompt", failed.Get<BooleanMetric>(LlamaGuardEvaluator.UnsafeMetricName).Metadata!["llamaguard.task"]);
        Assert.Equal(prompt.UnsafeProbability, failed.Get<NumericMetric>(LlamaGuardEvaluator.UnsafeProbabilityMetricName).Value);
    }

    [Fact]
    public async Task A_conversation_without_user_input_is_reported_as_a_diagnostic()
    {
        var result = await new LlamaGuardEvaluator(tiny.Model).EvaluateAsync([new ChatMessage(ChatRole.Tool, "42")],
            new ChatResponse(new ChatMessage(ChatRole.Assistant, "Hi")));

        var metric = result.Get<BooleanMetric>(LlamaGuardEvaluator.UnsafeMetricName);
        Assert.Null(metric.Value);
        Assert.Contains(metric.Diagnostics!, d => d.Severity == EvaluationDiagnosticSeverity.Error);
    }
}
