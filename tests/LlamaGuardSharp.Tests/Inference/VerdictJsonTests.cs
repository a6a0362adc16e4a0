using System.Text.Json;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Tests.Inference;

/// <summary>The one verdict JSON contract: key names and order as the CLI has always printed them, and round-trips.</summary>
public sealed class VerdictJsonTests(TinyGuardModelFixture fixture) : IClassFixture<TinyGuardModelFixture>
{
    private static readonly string[] Keys =
    [
        "verdict", "is_safe", "task", "categories", "unknown_codes", "unsafe_probability", "safe_probability",
        "category_probabilities", "raw_output", "output_ids", "prompt_tokens", "reused_prompt_tokens", "generated_tokens", "timings_s",
    ];

    private static SafetyVerdict Sample(VerdictKind kind = VerdictKind.Unsafe) => new(
        kind,
        ClassificationTask.ResponseClassification,
        kind == VerdictKind.Unsafe ? [SafetyPolicy.Default.Categories[0], new HazardCategory("X1", "Custom thing", "Custom thing.\nMore.")] : [],
        kind == VerdictKind.Unsafe ? ["S6"] : [],
        0.875,
        0.0625,
        [new CategoryProbability(SafetyPolicy.Default.Categories[0], 0.75), new CategoryProbability(SafetyPolicy.Default.Categories[9], 0.25)],
        kind == VerdictKind.Unsafe ? "unsafe\nS1,X1,S6" : "safe",
        [39257, 198, 50, 16, 128009],
        321,
        new ClassificationTimings(TimeSpan.FromSeconds(1.5), TimeSpan.FromMilliseconds(20), TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(20),
            TimeSpan.FromSeconds(2.25), TimeSpan.FromSeconds(72.5)))
    {
        ReusedPromptTokenCount = 140,
    };

    [Fact]
    public void Keys_and_values_are_the_documented_ones()
    {
        using var document = JsonDocument.Parse(VerdictJson.Serialize(Sample()));
        var root = document.RootElement;
        Assert.Equal(Keys, root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("unsafe", root.GetProperty("verdict").GetString());
        Assert.False(root.GetProperty("is_safe").GetBoolean());
        Assert.Equal("response_classification", root.GetProperty("task").GetString());
        Assert.Equal("""[{"code":"S1","name":"Violent Crimes"},{"code":"X1","name":"Custom thing"}]""", root.GetProperty("categories").GetRawText());
        Assert.Equal("""{"S1":0.75,"S10":0.25}""", root.GetProperty("category_probabilities").GetRawText());
        Assert.Equal(5, root.GetProperty("generated_tokens").GetInt32());
        Assert.Equal(140, root.GetProperty("reused_prompt_tokens").GetInt32());
        Assert.Equal(["load", "preprocess", "vision", "prefill", "decode", "total"],
            root.GetProperty("timings_s").EnumerateObject().Select(p => p.Name));
        Assert.Equal(72.5, root.GetProperty("timings_s").GetProperty("total").GetDouble());
    }

    [Theory]
    [InlineData(VerdictKind.Safe)]
    [InlineData(VerdictKind.Unsafe)]
    [InlineData(VerdictKind.Unparseable)]
    public void Round_trip_keeps_every_field(VerdictKind kind)
    {
        var original = Sample(kind);
        string json = VerdictJson.Serialize(original);
        var back = VerdictJson.Deserialize(json);
        Assert.Equal(json, VerdictJson.Serialize(back));
        Assert.Equal(original.Kind, back.Kind);
        Assert.Equal(original.ViolatedCategories.Select(c => (c.Code, c.Name)), back.ViolatedCategories.Select(c => (c.Code, c.Name)));
        Assert.Equal(original.UnknownCodes, back.UnknownCodes);
        Assert.Equal(original.OutputTokenIds, back.OutputTokenIds);
        Assert.Equal(original.ReusedPromptTokenCount, back.ReusedPromptTokenCount);
        Assert.Equal(original.Timings, back.Timings);
        Assert.Equal("Hate", back.CategoryProbabilities[1].Category.Name); // named from the default policy
    }

    [Fact]
    public void Text_is_not_escaped_beyond_what_JSON_needs()
    {
        var verdict = Sample(VerdictKind.Unparseable) with { RawOutput = "é <b> \"q\" \n" };
        string json = VerdictJson.Serialize(verdict);
        Assert.Contains("\"raw_output\":\"é <b> \\\"q\\\" \\n\"", json);
        Assert.Equal(verdict.RawOutput, VerdictJson.Deserialize(json).RawOutput);
    }

    [Fact]
    public async Task A_real_verdict_and_an_exchange_round_trip()
    {
        var guard = fixture.Model;
        var prompt = await guard.ClassifyAsync(Conversation.ForPrompt("How do I pick a lock?"));
        var response = await guard.ClassifyAsync(Conversation.ForResponse("How do I pick a lock?", "Use a tension wrench."));
        string json = VerdictJson.Serialize(new ExchangeVerdicts(prompt, response));
        using (var document = JsonDocument.Parse(json))
        {
            Assert.Equal(["prompt", "response"], document.RootElement.EnumerateObject().Select(p => p.Name));
        }
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            VerdictJson.Write(writer, new ExchangeVerdicts(prompt, response));
        }
        Assert.Equal(json, System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
        var back = VerdictJson.DeserializeExchange(json);
        Assert.Equal(VerdictJson.Serialize(prompt), VerdictJson.Serialize(back.Prompt));
        Assert.Equal(VerdictJson.Serialize(response), VerdictJson.Serialize(back.Response));
        Assert.Equal(prompt.UnsafeProbability, back.Prompt.UnsafeProbability); // doubles round-trip exactly
    }

    [Theory]
    [InlineData("null")]
    [InlineData("[]")]
    [InlineData("{\"verdict\":\"maybe\"}")]
    [InlineData("{\"verdict\":\"safe\",\"categories\":[{\"code\":\"bad code\"}]}")]
    [InlineData("{\"verdict\":\"safe\"}")]
    public void Bad_json_is_a_JsonException(string json) =>
        Assert.ThrowsAny<JsonException>(() => VerdictJson.Deserialize(json));

    [Fact]
    public void Non_finite_probabilities_are_refused() =>
        Assert.ThrowsAny<ArgumentException>(() => VerdictJson.Serialize(Sample() with { UnsafeProbability = double.NaN }));

    [Theory]
    [InlineData(867587L)]
    [InlineData(322869L)]
    [InlineData(1L)]
    [InlineData(987_654_321L)]
    [InlineData(252815L)]
    [InlineData(2530955L)]
    [InlineData(9_999_999_999L)]
    public void Timings_round_trip_to_the_tick(long ticks)
    {
        var t = TimeSpan.FromTicks(ticks);
        var verdict = Sample() with { Timings = new ClassificationTimings(t, t, t, t, t, t) };
        Assert.Equal(verdict.Timings, VerdictJson.Deserialize(VerdictJson.Serialize(verdict)).Timings);
    }
}
