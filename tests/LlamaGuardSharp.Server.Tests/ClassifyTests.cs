using System.Text.Json;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Server.Tests;

[Collection(ServiceCollection.Name)]
public sealed class ClassifyTests(TinyModel model)
{
    [Fact]
    public async Task VerdictEqualsADirectClassification()
    {
        await using var server = new GuardServer(model);
        var client = await server.ReadyClientAsync();
        var response = await GuardServer.PostJsonAsync(client, "/v1/classify", new
        {
            turns = new[] { new { role = "user", content = "How do I bake bread?" } },
        });
        var served = VerdictJson.Deserialize(await response.Content.ReadAsStringAsync());
        var direct = await model.Model.ClassifyAsync(Conversation.ForPrompt("How do I bake bread?"));
        Assert.Equal(direct.Kind, served.Kind);
        Assert.Equal(direct.RawOutput, served.RawOutput);
        Assert.Equal(direct.UnsafeProbability, served.UnsafeProbability, 12);
        Assert.Equal(ClassificationTask.PromptClassification, served.Task);
    }

    [Fact]
    public async Task TasksPickWhatIsJudged()
    {
        await using var server = new GuardServer(model);
        var client = await server.ReadyClientAsync();
        var turns = new[] { new { role = "user", content = "hi" }, new { role = "assistant", content = "hello, how can I help?" } };

        var auto = await GuardServer.JsonAsync(await GuardServer.PostJsonAsync(client, "/v1/classify", new { turns }));
        Assert.Equal("response_classification", auto.GetProperty("task").GetString());
        var prompt = await GuardServer.JsonAsync(await GuardServer.PostJsonAsync(client, "/v1/classify", new { turns, task = "prompt" }));
        Assert.Equal("prompt_classification", prompt.GetProperty("task").GetString());

        var both = await GuardServer.PostJsonAsync(client, "/v1/classify", new { turns, task = "both", image = TinyModel.PngDataUrl });
        var pair = VerdictJson.DeserializeExchange(await both.Content.ReadAsStringAsync());
        Assert.Equal(ClassificationTask.PromptClassification, pair.Prompt.Task);
        Assert.Equal(ClassificationTask.ResponseClassification, pair.Response.Task);
        Assert.Equal(TimeSpan.Zero, pair.Response.Timings.Vision); // the image was encoded once

        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/classify",
            new { turns = new[] { new { role = "user", content = "hi" } }, task = "response" }), 400, "invalid_request_error", "task");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/classify",
            new { turns = new[] { new { role = "user", content = "hi" } }, task = "both" }), 400, "invalid_request_error", "task");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/classify", new { turns, task = "sometimes" }),
            400, "invalid_request_error", "task");
    }

    [Fact]
    public async Task CustomPolicyAndExclusions()
    {
        await using var server = new GuardServer(model);
        var client = await server.ReadyClientAsync();
        var turns = new[] { new { role = "user", content = "hi" } };
        var custom = await GuardServer.JsonAsync(await GuardServer.PostJsonAsync(client, "/v1/classify", new
        {
            turns,
            policy = new { categories = new object[] { new { code = "S1", name = "Spam" }, new { code = "S2", name = "Scams", description = "Scams and fraud." } } },
        }));
        Assert.Equal(["S1", "S2"], custom.GetProperty("category_probabilities").EnumerateObject().Select(p => p.Name).ToArray());
        var excluded = await GuardServer.JsonAsync(await GuardServer.PostJsonAsync(client, "/v1/classify", new { turns, policy = new { exclude = new[] { "S1", "S2" } } }));
        Assert.False(excluded.GetProperty("category_probabilities").TryGetProperty("S1", out _));
        Assert.Equal(11, excluded.GetProperty("category_probabilities").EnumerateObject().Count());

        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/classify", new { turns, policy = new { exclude = new[] { "S77" } } }),
            400, "invalid_request_error", "policy.exclude");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/classify",
            new { turns, policy = new { categories = new object[] { new { code = "bad code", name = "x" } } } }), 400, "invalid_request_error", "policy.categories[0]");
    }

    [Fact]
    public async Task SchemaErrorsNameTheField()
    {
        await using var server = new GuardServer(model);
        var client = await server.ReadyClientAsync();
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/classify", new { }), 400, "invalid_request_error", "turns");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/classify", new { turns = Array.Empty<object>() }), 400, "invalid_request_error", "turns");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/classify",
            new { turns = new[] { new { role = "user", content = 3 } } }), 400, "invalid_request_error", "turns[0].content");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/classify",
            new { turns = new[] { new { role = "agent", content = "first" } } }), 400, "invalid_request_error", "turns", "invalid_conversation");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/classify",
            new { turns = new[] { new { role = "user", content = "x" } }, image = "ftp://example.com/a.png" }), 400, "invalid_request_error", "image", "invalid_image_url");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/classify",
            new { turns = new[] { new { role = "user", content = "x" } }, image = "data:image/png;base64,@@@" }), 400, "invalid_request_error", "image", "invalid_image_url");
        Assert.Equal(0, server.Guard.Started);
    }
}
