using System.Net.Http.Headers;
using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Server.Tests;

[Collection(ServiceCollection.Name)]
public sealed class OperationsTests(TinyModel model)
{
    [Fact]
    public async Task ReadinessWaitsForTheModelWhileHealthAnswersAtOnce()
    {
        var loader = new SlowLoader(new LoadedGuard(model.Model, "slow", TimeSpan.FromSeconds(2), Owner: null));
        await using var server = new GuardServer(model, loader: loader);
        var client = server.CreateClient();
        Assert.Equal(200, (int)(await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(503, (int)(await client.GetAsync("/readyz")).StatusCode);
        var early = await GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = "hi" });
        await GuardServer.AssertErrorAsync(early, 503, "server_error", code: "model_not_ready");
        Assert.NotNull(early.Headers.RetryAfter);
        loader.Release.SetResult();
        await server.ReadyClientAsync();
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("llamaguard_model_load_seconds 2", metrics);
    }

    [Fact]
    public async Task MetricsCountRequestsStagesAndQueue()
    {
        await using var server = new GuardServer(model);
        var client = await server.ReadyClientAsync();
        await GuardServer.PostJsonAsync(client, "/v1/classify", new { turns = new[] { new { role = "user", content = "hi" } }, image = TinyModel.PngDataUrl });
        await GuardServer.PostJsonAsync(client, "/v1/classify", new { turns = new[] { new { role = "user", content = "hi again" } }, image = TinyModel.PngDataUrl });
        await GuardServer.PostJsonAsync(client, "/v1/classify", new { });
        var response = await client.GetAsync("/metrics");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        Assert.Contains("llamaguard_requests_total{route=\"/v1/classify\",status=\"200\"} 2", text);
        Assert.Contains("llamaguard_requests_total{route=\"/v1/classify\",status=\"400\"} 1", text);
        Assert.Contains("llamaguard_request_duration_seconds_bucket{route=\"/v1/classify\",status=\"200\",le=\"+Inf\"} 2", text);
        foreach (string stage in new[] { "queue", "preprocess", "vision", "prefill", "decode", "classify" })
        {
            Assert.Contains($"llamaguard_stage_duration_seconds_count{{stage=\"{stage}\"}}", text);
        }
        // The second request's image is the first one's: its encoding comes from the cache (the first may too, the
        // model is shared by the tests).
        Assert.Matches("llamaguard_cache_lookups_total\\{cache=\"image\",result=\"hit\"\\} [12]\\b", text);
        Assert.Contains("llamaguard_cache_lookups_total{cache=\"prompt\",result=", text);
        Assert.Contains("llamaguard_queue_depth 0", text);
        Assert.Contains("llamaguard_queue_limit 16", text);
    }

    [Fact]
    public async Task OpenApiDocumentListsEveryRoute()
    {
        await using var server = new GuardServer(model);
        var client = await server.ReadyClientAsync();
        string document = await client.GetStringAsync("/openapi/v1.json");
        foreach (string route in new[] { "/v1/moderations", "/v1/shields", "/v1/shields/{identifier}", "/v1/safety/run-shield", "/v1/classify", "/healthz", "/readyz", "/metrics" })
        {
            Assert.Contains($"\"{route}\"", document);
        }
        using var json = System.Text.Json.JsonDocument.Parse(document);
        var paths = json.RootElement.GetProperty("paths");
        foreach (string route in new[] { "/v1/moderations", "/v1/safety/run-shield", "/v1/classify" })
        {
            var post = paths.GetProperty(route).GetProperty("post");
            Assert.True(post.GetProperty("requestBody").GetProperty("content").TryGetProperty("application/json", out _), route);
            Assert.True(post.GetProperty("responses").TryGetProperty("429", out _), route);
        }
        Assert.Contains("\"shield_id\"", document);
        Assert.Contains("\"turns\"", document);
        Assert.Contains("rate_limit_error", document);
    }

    [Fact]
    public async Task EveryResponseHasARequestIdAndAGivenOneIsKept()
    {
        await using var server = new GuardServer(model);
        var client = await server.ReadyClientAsync();
        Assert.True((await client.GetAsync("/healthz")).Headers.Contains("X-Request-Id"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        request.Headers.Add("X-Request-Id", "abc-123");
        Assert.Equal("abc-123", (await client.SendAsync(request)).Headers.GetValues("X-Request-Id").Single());
        using var bad = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        bad.Headers.TryAddWithoutValidation("X-Request-Id", "has spaces and <html>");
        Assert.NotEqual("has spaces and <html>", (await client.SendAsync(bad)).Headers.GetValues("X-Request-Id").Single());
    }

    [Fact]
    public async Task UnknownRoutesAre404AndInternalErrorsAre500WithoutInternals()
    {
        await using var server = new GuardServer(model);
        var client = await server.ReadyClientAsync();
        await GuardServer.AssertErrorAsync(await client.GetAsync("/v2/nothing"), 404, "invalid_request_error", code: "not_found");
        var wrongMethod = await client.GetAsync("/v1/moderations");
        await GuardServer.AssertErrorAsync(wrongMethod, 405, "invalid_request_error", code: "method_not_allowed");
        Assert.Equal(["POST"], wrongMethod.Content.Headers.Allow);
        server.Guard.FailWith = new InvalidOperationException("secret detail at /srv/models/private");
        var error = await GuardServer.AssertErrorAsync(await GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = "x" }),
            500, "server_error", code: "internal_error");
        Assert.DoesNotContain("secret", error.GetProperty("message").GetString());
        Assert.DoesNotContain("/srv", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task ApiKeysGuardV1RoutesButNotHealth()
    {
        await using var server = new GuardServer(model, new() { ["ApiKeys:0"] = "k-one", ["ApiKeys:1"] = "k-two" });
        var client = await server.ReadyClientAsync(); // /readyz is open
        Assert.Equal(200, (int)(await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(200, (int)(await client.GetAsync("/metrics")).StatusCode);
        var missing = await GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = "x" });
        await GuardServer.AssertErrorAsync(missing, 401, "authentication_error", code: "missing_api_key");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        await GuardServer.AssertErrorAsync(await client.GetAsync("/v1/shields"), 401, "authentication_error", code: "invalid_api_key");
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "k-two");
        Assert.Equal(200, (int)(await GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = "x" })).StatusCode);
        Assert.Equal(1, server.Guard.Completed);
    }
}
