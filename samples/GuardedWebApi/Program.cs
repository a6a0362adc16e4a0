// An ASP.NET Core chat API guarded through a shared `llamaguard serve` (LlamaGuard:Endpoint in appsettings.json, or
// LlamaGuard__Endpoint / LlamaGuard__ApiKey in the environment). Start the service, then:
//
//   dotnet run --urls http://127.0.0.1:5000
//   curl -s localhost:5000/chat -H 'content-type: application/json' -d '{"message":"How do I bake bread?"}'
//
// The LLM: an OpenAI-compatible endpoint from OPENAI_API_KEY (OPENAI_BASE_URL, OPENAI_MODEL); without it a stand-in
// repeats the message. Readiness (the guard service included): GET /readyz.
using System.ClientModel;
using LlamaGuardSharp.Extensions.AI;
using LlamaGuardSharp.Inference;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.AI;
using OpenAI;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddLlamaGuard(builder.Configuration.GetSection("LlamaGuard"));
builder.Services.AddChatClient(_ => CreateLlm())
    .UseLlamaGuard(configure: o => o.OnViolation = GuardViolationAction.Throw);

var app = builder.Build();

app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });

app.MapPost("/chat", async (ChatRequest request, IChatClient chat, CancellationToken cancellationToken) =>
{
    if (string.IsNullOrWhiteSpace(request.Message))
    {
        return Results.BadRequest(new { error = "message is required" });
    }
    try
    {
        var response = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, request.Message)], cancellationToken: cancellationToken);
        // No output verdict when the answer has no text to judge (the indexer would throw for the missing key).
        SafetyVerdict? verdict = null;
        response.AdditionalProperties?.TryGetValue(LlamaGuardChatClient.OutputVerdictKey, out verdict);
        return Results.Ok(new { answer = response.Text, unsafe_probability = verdict?.UnsafeProbability });
    }
    catch (ContentGuardException e)
    {
        // 422: the request was understood and refused on content; the side and categories tell the client why.
        return Results.UnprocessableEntity(new
        {
            blocked = e.Side.ToString().ToLowerInvariant(),
            categories = e.Verdict.ViolatedCategories.Select(c => c.Code),
            unsafe_probability = e.Verdict.UnsafeProbability,
        });
    }
    catch (LlamaGuardServiceException e)
    {
        // The guard could not judge: fail closed with 503 rather than answering unchecked.
        return Results.Problem(e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
});

app.Run();

static IChatClient CreateLlm() => Environment.GetEnvironmentVariable("OPENAI_API_KEY") is { Length: > 0 } key
    ? new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = Environment.GetEnvironmentVariable("OPENAI_BASE_URL") is { Length: > 0 } url ? new Uri(url) : null,
        })
        .GetChatClient(Environment.GetEnvironmentVariable("OPENAI_MODEL") ?? "gpt-4o-mini")
        .AsIChatClient()
    : new EchoChatClient();

/// <summary>The body of POST /chat.</summary>
internal sealed record ChatRequest(string Message);

/// <summary>Stands in for an LLM when none is configured: answers with the user's last message.</summary>
internal sealed class EchoChatClient : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, $"You said: {messages.Last(m => m.Role == ChatRole.User).Text}")));

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
