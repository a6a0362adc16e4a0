using System.Text.Json;

namespace LlamaGuardSharp.Server.Tests;

[Collection(ServiceCollection.Name)]
public sealed class SafetyApiTests(TinyModel model)
{
    [Fact]
    public async Task ShieldsListTheLoadedModel()
    {
        await using var server = new GuardServer(model);
        var client = await server.ReadyClientAsync();
        var list = await GuardServer.JsonAsync(await client.GetAsync("/v1/shields"));
        var shield = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal(GuardServer.ModelId, shield.GetProperty("identifier").GetString());
        Assert.Equal("shield", shield.GetProperty("type").GetString());
        Assert.Equal(GuardServer.ModelId, (await GuardServer.JsonAsync(await client.GetAsync($"/v1/shields/{GuardServer.ModelId}"))).GetProperty("identifier").GetString());
        await GuardServer.AssertErrorAsync(await client.GetAsync("/v1/shields/other"), 404, "invalid_request_error", code: "shield_not_found");
    }

    [Fact]
    public async Task RunShieldAnswersNullViolationForASafeVerdictAndAViolationWhenFlagged()
    {
        await using (var server = new GuardServer(model, new() { ["Threshold"] = "1" }))
        {
            var client = await server.ReadyClientAsync();
            var response = await GuardServer.PostJsonAsync(client, "/v1/safety/run-shield", new
            {
                shield_id = GuardServer.ModelId,
                messages = new object[] { new { role = "user", content = "hello" } },
            });
            var body = await GuardServer.JsonAsync(response);
            Assert.Equal(JsonValueKind.Null, body.GetProperty("violation").ValueKind);
        }
        await using (var server = new GuardServer(model, new() { ["Threshold"] = "0" }))
        {
            var client = await server.ReadyClientAsync();
            var response = await GuardServer.PostJsonAsync(client, "/v1/safety/run-shield", new
            {
                shield_id = GuardServer.ModelId,
                messages = new object[]
                {
                    new { role = "system", content = "You are helpful." },
                    new { role = "user", content = new object[] { new { type = "text", text = "look" }, new { type = "image_url", image_url = new { url = TinyModel.PngDataUrl } } } },
                    new { role = "assistant", content = "Sure." },
                },
                @params = new { excluded_categories = new[] { "S6" } },
            });
            var violation = (await GuardServer.JsonAsync(response)).GetProperty("violation");
            Assert.Equal("error", violation.GetProperty("violation_level").GetString());
            Assert.False(string.IsNullOrEmpty(violation.GetProperty("user_message").GetString()));
            var metadata = violation.GetProperty("metadata");
            Assert.Equal(JsonValueKind.String, metadata.GetProperty("violation_type").ValueKind);
            var verdict = metadata.GetProperty("llama_guard");
            Assert.Equal("response_classification", verdict.GetProperty("task").GetString()); // last message: assistant
            Assert.False(verdict.GetProperty("category_probabilities").TryGetProperty("S6", out _));
        }
    }

    [Fact]
    public async Task RunShieldErrors()
    {
        await using var server = new GuardServer(model);
        var client = await server.ReadyClientAsync();
        var user = new { role = "user", content = "hi" };
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/safety/run-shield", new { shield_id = "nope", messages = new[] { user } }),
            404, "invalid_request_error", "shield_id", "shield_not_found");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/safety/run-shield", new { messages = new[] { user } }),
            400, "invalid_request_error", "shield_id", "missing_required_parameter");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/safety/run-shield", new { shield_id = GuardServer.ModelId, messages = Array.Empty<object>() }),
            400, "invalid_request_error", "messages");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/safety/run-shield",
            new { shield_id = GuardServer.ModelId, messages = new[] { new { role = "robot", content = "hi" } } }),
            400, "invalid_request_error", "messages[0].role");
        await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/safety/run-shield",
            new { shield_id = GuardServer.ModelId, messages = new[] { user }, @params = new { excluded_categories = new[] { "S99" } } }),
            400, "invalid_request_error", "params.excluded_categories");
        Assert.Equal(0, server.Guard.Started);
    }
}
