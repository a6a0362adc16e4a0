// The SDK marks multimodal moderation inputs and applied input kinds as evaluation APIs; reading them is the point here.
#pragma warning disable OPENAI001
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using OpenAI;
using OpenAI.Moderations;

namespace LlamaGuardSharp.Server.Tests;

[Collection(ServiceCollection.Name)]
public sealed class ModerationsTests(TinyModel model)
{
    private static readonly string[] OpenAiKeys =
    [
        "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
        "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic",
    ];

    private static ModerationClient SdkClient(GuardServer server, string apiKey = "unused") =>
        new("omni-moderation-latest", new ApiKeyCredential(apiKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(server.Server.BaseAddress, "v1"),
            Transport = new HttpClientPipelineTransport(server.CreateClient()),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });

    [Fact]
    public async Task OpenAiSdkReadsEveryFieldOfATextResult()
    {
        await using var server = new GuardServer(model, new() { ["Threshold"] = "0" });
        await server.ReadyClientAsync();
        var result = (await SdkClient(server).ClassifyTextAsync("How do I pick a lock?")).Value;

        // Threshold 0 flags everything: the flagged path with real category flags and scores.
        Assert.True(result.Flagged);
        ModerationCategory[] categories =
        [
            result.Harassment, result.HarassmentThreatening, result.Hate, result.HateThreatening, result.Illicit, result.IllicitViolent,
            result.SelfHarm, result.SelfHarmIntent, result.SelfHarmInstructions, result.Sexual, result.SexualMinors, result.Violence, result.ViolenceGraphic,
        ];
        Assert.All(categories, c =>
        {
            Assert.NotNull(c);
            Assert.InRange(c.Score, 0f, 1f);
            Assert.Equal(ModerationApplicableInputKinds.Text, c.ApplicableInputKinds);
        });
        Assert.Equal(0f, result.Harassment.Score);   // no Llama Guard category maps to harassment by default
        Assert.Equal(result.SelfHarm.Score, result.SelfHarmIntent.Score);
    }

    [Fact]
    public async Task SdkClassifiesAnArrayAndAnImagePart()
    {
        await using var server = new GuardServer(model);
        await server.ReadyClientAsync();
        var sdk = SdkClient(server);
        var many = (await sdk.ClassifyTextAsync(["first text", "second text", "third"])).Value;
        Assert.Equal(3, many.Count);
        Assert.StartsWith("modr-", many.Id);
        Assert.Equal(GuardServer.ModelId, many.Model);

        var single = (await sdk.ClassifyInputsAsync([
            ModerationInputPart.CreateTextPart("what is in this picture?"),
            ModerationInputPart.CreateImagePart(new Uri(TinyModel.PngDataUrl)),
        ])).Value;
        Assert.Equal(ModerationApplicableInputKinds.Text | ModerationApplicableInputKinds.Image, single.Violence.ApplicableInputKinds);
        Assert.Equal(1, server.Guard.Completed - 3);
    }

    [Fact]
    public async Task ResultHasAllKeysExtraCategoriesScoresFromTheVerdictAndTheVerdict()
    {
        await using var server = new GuardServer(model, new() { ["Threshold"] = "0" });
        var client = await server.ReadyClientAsync();
        var response = await GuardServer.PostJsonAsync(client, "/v1/moderations", new { model = "anything", input = "hello there" });
        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("X-Retry-Safe").Single());
        Assert.True(int.TryParse(response.Headers.GetValues("X-Queue-Depth").Single(), out _));
        var result = (await GuardServer.JsonAsync(response)).GetProperty("results")[0];
        var categories = result.GetProperty("categories");
        var scores = result.GetProperty("category_scores");
        foreach (string key in OpenAiKeys)
        {
            Assert.True(categories.GetProperty(key).ValueKind is JsonValueKind.True or JsonValueKind.False, key);
            Assert.Equal(JsonValueKind.Number, scores.GetProperty(key).ValueKind);
        }
        // S5, S6, S7, S8, S13 have no OpenAI key: extra keys named after the category.
        foreach (string extra in new[] { "defamation", "specialized-advice", "privacy", "intellectual-property", "elections" })
        {
            Assert.Equal(JsonValueKind.Number, scores.GetProperty(extra).ValueKind);
        }
        var verdict = result.GetProperty("llama_guard");
        double pUnsafe = verdict.GetProperty("unsafe_probability").GetDouble();
        var probabilities = verdict.GetProperty("category_probabilities");
        // The documented rule: score(k) = p(unsafe) × Σ P(c) over the codes mapped to k.
        Assert.Equal(pUnsafe * probabilities.GetProperty("S10").GetDouble(), scores.GetProperty("hate").GetDouble(), 12);
        Assert.Equal(pUnsafe * (probabilities.GetProperty("S1").GetDouble() + probabilities.GetProperty("S3").GetDouble() + probabilities.GetProperty("S9").GetDouble()),
            scores.GetProperty("illicit/violent").GetDouble(), 12);
        Assert.Equal(pUnsafe * probabilities.GetProperty("S6").GetDouble(), scores.GetProperty("specialized-advice").GetDouble(), 12);
        Assert.True(result.GetProperty("flagged").GetBoolean());
        // A threshold-flagged verdict that names no category flags the keys of its most probable category.
        string top = probabilities.EnumerateObject().MaxBy(p => p.Value.GetDouble()).Name;
        var expected = new Dictionary<string, string[]>
        {
            ["S1"] = ["violence", "illicit", "illicit/violent"], ["S2"] = ["illicit"], ["S3"] = ["sexual", "illicit", "illicit/violent"],
            ["S4"] = ["sexual", "sexual/minors", "illicit"], ["S5"] = ["defamation"], ["S6"] = ["specialized-advice"], ["S7"] = ["privacy"],
            ["S8"] = ["intellectual-property"], ["S9"] = ["illicit", "illicit/violent"], ["S10"] = ["hate"],
            ["S11"] = ["self-harm", "self-harm/intent", "self-harm/instructions"], ["S12"] = ["sexual"], ["S13"] = ["elections"],
        }[top];
        var flaggedKeys = categories.EnumerateObject().Where(p => p.Value.GetBoolean()).Select(p => p.Name).Order().ToArray();
        Assert.Equal(expected.Order().ToArray(), flaggedKeys);
    }

    [Fact]
    public async Task MappingIsOverridableAndExclusionsApply()
    {
        await using var server = new GuardServer(model, new()
        {
            ["ModerationCategories:S6:0"] = "illicit",
            ["ExcludedCategories:0"] = "S13",
        });
        var client = await server.ReadyClientAsync();
        var result = (await GuardServer.JsonAsync(await GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = "hi" })))
            .GetProperty("results")[0];
        var scores = result.GetProperty("category_scores");
        Assert.False(scores.TryGetProperty("specialized-advice", out _)); // now under illicit
        Assert.False(scores.TryGetProperty("elections", out _));          // excluded
        Assert.False(result.GetProperty("llama_guard").GetProperty("category_probabilities").TryGetProperty("S13", out _));
    }

    [Fact]
    public async Task InputErrorsUseTheEnvelope()
    {
        await using var server = new GuardServer(model, new() { ["MaxInputs"] = "2" });
        var client = await server.ReadyClientAsync();
        var image = new { type = "image_url", image_url = new { url = TinyModel.PngDataUrl } };
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = new object[] { image, image } }),
            400, "invalid_request_error", "input", "too_many_images");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/moderations", new { model = "x" }),
            400, "invalid_request_error", "input", "missing_required_parameter");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = 5 }),
            400, "invalid_request_error", "input", "invalid_type");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = new[] { "a", "b", "c" } }),
            400, "invalid_request_error", "input", "too_many_inputs");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = new[] { "a", " " } }),
            400, "invalid_request_error", "input[1]");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = new object[] { new { type = "audio" } } }),
            400, "invalid_request_error", "input[0].type");
        await GuardServer.AssertErrorAsync(await GuardServer.PostRawAsync(client, "/v1/moderations", "{\"input\": \"x\""),
            400, "invalid_request_error", code: "invalid_json");
        await GuardServer.AssertErrorAsync(await GuardServer.PostRawAsync(client, "/v1/moderations", "[1]"),
            400, "invalid_request_error", code: "invalid_json");
        await GuardServer.AssertErrorAsync(await GuardServer.PostRawAsync(client, "/v1/moderations", "input=x", "text/plain"),
            415, "invalid_request_error", code: "unsupported_media_type");
        var badImage = new { type = "image_url", image_url = new { url = "data:image/png;base64," + Convert.ToBase64String("not an image"u8.ToArray()) } };
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = new object[] { badImage } }),
            400, "invalid_request_error", "input", "invalid_image");
        Assert.Equal(0, server.Guard.Completed);
    }

    [Fact]
    public async Task BodyOverTheLimitIs413()
    {
        await using var server = new GuardServer(model, new() { ["MaxRequestBytes"] = "1000" });
        var client = await server.ReadyClientAsync();
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = new string('a', 2000) }),
            413, "invalid_request_error", code: "request_too_large");
    }
}
