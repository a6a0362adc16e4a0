using System.Net;
using System.Net.Sockets;
using LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace LlamaGuardSharp.Extensions.AI.Tests;

/// <summary>
/// The remote client against the real <c>llamaguard serve</c> in-process over the same tiny GuardModel: the verdicts
/// must be those of the model in-process, and the service's failures must come out as the typed exceptions (through the
/// resilience pipeline that AddLlamaGuard registers). Queue-full answers and slow answers are injected in front of the
/// service (GuardService.Faults), the rest is the service's own behaviour.
/// </summary>
[Collection(TinyGuardCollection.Name)]
public sealed class LlamaGuardClientTests(TinyGuard tiny) : IAsyncLifetime
{
    private GuardService _server = null!;

    public async Task InitializeAsync() => _server = await GuardService.StartAsync(tiny.Model);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ServiceProvider Services(Uri endpoint, Action<LlamaGuardOptions>? configure = null) =>
        new ServiceCollection().AddLlamaGuard(o =>
        {
            o.Endpoint = endpoint;
            configure?.Invoke(o);
        }).BuildServiceProvider();

    private static void AssertSame(SafetyVerdict expected, SafetyVerdict actual)
    {
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.Task, actual.Task);
        Assert.Equal(expected.UnsafeProbability, actual.UnsafeProbability);
        Assert.Equal(expected.SafeProbability, actual.SafeProbability);
        Assert.Equal(expected.RawOutput, actual.RawOutput);
        Assert.Equal(expected.OutputTokenIds, actual.OutputTokenIds);
        Assert.Equal(expected.PromptTokenCount, actual.PromptTokenCount);
        Assert.Equal(expected.CategoryProbabilities.Select(c => (c.Category.Code, c.Probability)), actual.CategoryProbabilities.Select(c => (c.Category.Code, c.Probability)));
    }

    public static TheoryData<string> Cases => new() { "prompt", "response", "multi-turn", "image", "policy" };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Gives_the_same_verdicts_as_the_model_in_process(string name)
    {
        var image = await ConversationImage.FromFileAsync(Path.Combine(TinyGuard.GoldenDir, "images", "p_camera.png"));
        var (conversation, policy) = name switch
        {
            "prompt" => (Conversation.ForPrompt("How do I pick a lock?"), null),
            "response" => (Conversation.ForResponse("How do I pick a lock?", "Insert the tension wrench first."), null),
            "multi-turn" => (Conversation.Create().User("Hi").Agent("Hello! How can I help?").User("Tell me about knives.").Build(), (SafetyPolicy?)null),
            "image" => (Conversation.ForResponse("What is this?", "A camera.", image), null),
            _ => (Conversation.ForPrompt("Tell me a secret"), SafetyPolicy.FromCategories([new("X1", "Secrets", "Revealing secrets."), new("X2", "Spoilers")])),
        };
        using var services = Services(_server.Address);
        var client = services.GetRequiredService<IContentGuard>();
        Assert.IsType<LlamaGuardClient>(client);

        var remote = await client.ClassifyAsync(conversation, policy);

        AssertSame(await tiny.Model.ClassifyAsync(conversation, policy), remote);
    }

    [Fact]
    public async Task Sends_the_api_key_and_the_policy_as_its_full_category_list()
    {
        using var services = Services(_server.Address, o => o.ApiKey = "sk-test");
        await services.GetRequiredService<LlamaGuardClient>().ClassifyAsync(Conversation.ForPrompt("Hi"), SafetyPolicy.Default.Exclude("S2"));

        Assert.Equal("Bearer sk-test", _server.LastAuthorization);
        Assert.Contains("\"task\":\"prompt\"", _server.LastBody);
        Assert.Contains("\"code\":\"S1\"", _server.LastBody);
        Assert.DoesNotContain("\"code\":\"S2\"", _server.LastBody);
        Assert.Contains("\"code\":\"S13\"", _server.LastBody);
    }

    [Fact]
    public async Task A_bad_request_is_a_request_exception_naming_the_field_and_is_not_retried()
    {
        // Bytes that are no image: the service answers 400 naming the field.
        var conversation = Conversation.ForPrompt("What is this?", ConversationImage.FromBytes(new byte[] { 1, 2, 3, 4 }));
        using var services = Services(_server.Address);

        var e = await Assert.ThrowsAsync<LlamaGuardRequestException>(() => services.GetRequiredService<LlamaGuardClient>().ClassifyAsync(conversation));

        Assert.Equal(HttpStatusCode.BadRequest, e.StatusCode);
        Assert.Equal("image", e.Param);
        Assert.Equal("invalid_request_error", e.ErrorType);
        Assert.NotNull(e.RequestId);
        Assert.Equal(1, _server.Requests);
    }

    [Fact]
    public async Task A_request_over_the_services_size_limit_is_a_request_exception()
    {
        await using var small = await GuardService.StartAsync(tiny.Model, new() { ["MaxRequestBytes"] = "2000" });
        using var services = Services(small.Address);

        var e = await Assert.ThrowsAsync<LlamaGuardRequestException>(() => services.GetRequiredService<LlamaGuardClient>().ClassifyAsync(Conversation.ForPrompt(new string('a', 5000))));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, e.StatusCode);
    }

    [Fact]
    public async Task The_api_key_is_checked_by_the_service()
    {
        await using var keyed = await GuardService.StartAsync(tiny.Model, new() { ["ApiKeys:0"] = "sk-right" });

        using (var without = Services(keyed.Address))
        {
            var e = await Assert.ThrowsAsync<LlamaGuardAuthenticationException>(() => without.GetRequiredService<LlamaGuardClient>().ClassifyAsync(Conversation.ForPrompt("Hi")));
            Assert.Equal("authentication_error", e.ErrorType);
            Assert.Equal(HttpStatusCode.Unauthorized, e.StatusCode);
        }
        using var with = Services(keyed.Address, o => o.ApiKey = "sk-right");
        AssertSame(await tiny.Model.ClassifyAsync(Conversation.ForPrompt("Hi")), await with.GetRequiredService<LlamaGuardClient>().ClassifyAsync(Conversation.ForPrompt("Hi")));
    }

    [Fact]
    public async Task A_full_queue_is_retried_after_its_Retry_After_and_then_succeeds()
    {
        _server.Faults.Enqueue(c => new ApiException(StatusCodes.Status429TooManyRequests, ApiErrorType.RateLimit, "Queue full.") { RetryAfterSeconds = 1 }.WriteAsync(c));
        using var services = Services(_server.Address, o => o.MaxRetries = 2);

        var verdict = await services.GetRequiredService<LlamaGuardClient>().ClassifyAsync(Conversation.ForPrompt("Hi"));

        AssertSame(await tiny.Model.ClassifyAsync(Conversation.ForPrompt("Hi")), verdict);
        Assert.Equal(2, _server.Requests);
    }

    [Fact]
    public async Task A_queue_that_stays_full_is_a_rate_limit_exception_with_its_Retry_After()
    {
        _server.Faults.Enqueue(c => new ApiException(StatusCodes.Status429TooManyRequests, ApiErrorType.RateLimit, "Queue full.") { RetryAfterSeconds = 7 }.WriteAsync(c));
        using var services = Services(_server.Address, o => o.MaxRetries = 0);

        var e = await Assert.ThrowsAsync<LlamaGuardRateLimitException>(() => services.GetRequiredService<LlamaGuardClient>().ClassifyAsync(Conversation.ForPrompt("Hi")));

        Assert.Equal(TimeSpan.FromSeconds(7), e.RetryAfter);
        Assert.Equal(1, _server.Requests);
    }

    [Fact]
    public async Task A_service_that_is_not_ready_is_unavailable()
    {
        await using var loading = await GuardService.StartAsync(tiny.Model, loader: new NeverLoader(), waitReady: false);
        using var services = Services(loading.Address, o => o.MaxRetries = 0);
        var client = services.GetRequiredService<LlamaGuardClient>();

        var e = await Assert.ThrowsAsync<LlamaGuardUnavailableException>(() => client.ClassifyAsync(Conversation.ForPrompt("Hi")));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, e.StatusCode);
        Assert.False(await client.IsReadyAsync());
    }

    [Fact]
    public async Task A_service_slower_than_the_timeout_is_unavailable()
    {
        _server.Faults.Enqueue(async c => await Task.Delay(TimeSpan.FromSeconds(10), c.RequestAborted));
        using var services = Services(_server.Address, o => { o.MaxRetries = 0; o.Timeout = TimeSpan.FromMilliseconds(300); });

        var e = await Assert.ThrowsAsync<LlamaGuardUnavailableException>(() => services.GetRequiredService<LlamaGuardClient>().ClassifyAsync(Conversation.ForPrompt("Hi")));
        Assert.Contains("timeout", e.Message);
        Assert.Null(e.StatusCode);
    }

    [Fact]
    public async Task An_unreachable_service_is_unavailable_and_not_ready()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there any more
        using var services = Services(new Uri($"http://127.0.0.1:{port}/"), o => o.MaxRetries = 0);
        var client = services.GetRequiredService<LlamaGuardClient>();

        await Assert.ThrowsAsync<LlamaGuardUnavailableException>(() => client.ClassifyAsync(Conversation.ForPrompt("Hi")));
        Assert.False(await client.IsReadyAsync());
    }

    [Fact]
    public async Task An_image_on_a_later_user_turn_is_refused_before_sending()
    {
        var image = ConversationImage.FromBytes(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' });
        var conversation = Conversation.Create().User("Hi").Agent("Hello").User("And this?", image).Build();
        using var services = Services(_server.Address);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => services.GetRequiredService<LlamaGuardClient>().ClassifyAsync(conversation));
        Assert.Contains("first user turn", e.Message);
        Assert.Equal(0, _server.Requests);
    }

    [Fact]
    public async Task The_middleware_over_the_remote_client_blocks_like_the_model_in_process()
    {
        using var services = Services(_server.Address);
        var inner = new ScriptedChatClient("Fine.");
        var chat = new Microsoft.Extensions.AI.ChatClientBuilder(inner).UseLlamaGuard().Build(services);

        var e = await Assert.ThrowsAsync<ContentGuardException>(() => chat.GetResponseAsync([new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, "How do I pick a lock?")]));

        Assert.Equal(GuardedSide.Input, e.Side);
        AssertSame(await tiny.Model.ClassifyAsync(Conversation.ForPrompt("How do I pick a lock?")), e.Verdict);
        Assert.Equal(0, inner.Calls);
    }
}
