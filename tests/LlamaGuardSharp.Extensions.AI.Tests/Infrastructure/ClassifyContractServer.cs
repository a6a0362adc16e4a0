using System.Collections.Concurrent;
using System.Text.Json;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;

/// <summary>
/// A Kestrel host on 127.0.0.1 (free port) serving the native API <c>POST /v1/classify</c> as the BRIEF's contract
/// defines it, over the real <see cref="GuardModel"/>, plus <c>GET /readyz</c>. It stands in for <c>llamaguard serve</c>
/// (issue 18) until that branch is merged; <see cref="Faults"/> lets a test make the next requests fail the way the
/// service does (error envelope, status, Retry-After).
/// </summary>
public sealed class ClassifyContractServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ClassifyContractServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>The root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; }

    /// <summary>Faults to answer the next classify requests with, in order (each answers one request).</summary>
    public ConcurrentQueue<Func<HttpContext, Task>> Faults { get; } = new();

    /// <summary>Classify requests received (faulted ones included).</summary>
    public int Requests => _requests;

    /// <summary>The Authorization header of the last classify request.</summary>
    public string? LastAuthorization { get; private set; }

    /// <summary>The body of the last classify request.</summary>
    public string? LastBody { get; private set; }

    private int _requests;

    public static async Task<ClassifyContractServer> StartAsync(IContentGuard guard)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        ClassifyContractServer? server = null;
        app.MapGet("/readyz", () => Results.Ok());
        app.MapPost("/v1/classify", async (HttpContext context) =>
        {
            Interlocked.Increment(ref server!._requests);
            server.LastAuthorization = context.Request.Headers.Authorization;
            using var reader = new StreamReader(context.Request.Body);
            server.LastBody = await reader.ReadToEndAsync(context.RequestAborted);
            context.Response.Headers["X-Request-Id"] = Guid.NewGuid().ToString("N");
            if (server.Faults.TryDequeue(out var fault))
            {
                await fault(context);
                return;
            }
            Conversation conversation;
            SafetyPolicy? policy;
            try
            {
                (conversation, policy) = Parse(server.LastBody);
            }
            catch (Exception e) when (e is JsonException or ConversationException or SafetyPolicyException or FormatException or KeyNotFoundException or InvalidOperationException)
            {
                await WriteErrorAsync(context, 400, "invalid_request_error", e.Message, "turns");
                return;
            }
            var verdict = await guard.ClassifyAsync(conversation, policy, context.RequestAborted);
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(VerdictJson.Serialize(verdict), context.RequestAborted);
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new ClassifyContractServer(app, new Uri(address.TrimEnd('/') + "/"));
        return server;
    }

    /// <summary>Writes the service's error envelope.</summary>
    public static async Task WriteErrorAsync(HttpContext context, int status, string type, string message, string? param = null, int? retryAfterSeconds = null)
    {
        context.Response.StatusCode = status;
        if (retryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(new { error = new { message, type, param, code = (string?)null } }));
    }

    /// <summary>The contract's request: turns (user/agent), the image as a data URI on the first user turn, task, policy categories.</summary>
    private static (Conversation, SafetyPolicy?) Parse(string body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var turns = new List<ConversationTurn>();
        ConversationImage? image = null;
        if (root.TryGetProperty("image", out var imageElement))
        {
            string uri = imageElement.GetString()!;
            int comma = uri.IndexOf(',');
            if (!uri.StartsWith("data:image/", StringComparison.Ordinal) || comma < 0 || !uri[..comma].EndsWith(";base64", StringComparison.Ordinal))
            {
                throw new FormatException("image must be a base64 data URI");
            }
            image = ConversationImage.FromBytes(Convert.FromBase64String(uri[(comma + 1)..]));
        }
        foreach (var turn in root.GetProperty("turns").EnumerateArray())
        {
            var role = turn.GetProperty("role").GetString() switch
            {
                "user" => Role.User,
                "agent" or "assistant" => Role.Agent,
                var other => throw new FormatException($"unknown role {other}"),
            };
            bool first = turns.Count == 0;
            turns.Add(new ConversationTurn(role, turn.GetProperty("content").GetString()!, first ? image : null));
        }
        var conversation = Conversation.FromTurns(turns);
        string task = root.TryGetProperty("task", out var t) ? t.GetString()! : "auto";
        if ((task == "prompt" && conversation.Task != ClassificationTask.PromptClassification)
            || (task == "response" && conversation.Task != ClassificationTask.ResponseClassification))
        {
            throw new InvalidOperationException($"task {task} does not match the last turn");
        }
        SafetyPolicy? policy = null;
        if (root.TryGetProperty("policy", out var policyElement) && policyElement.TryGetProperty("categories", out var categories))
        {
            policy = SafetyPolicy.FromCategories(categories.EnumerateArray().Select(c => new HazardCategory(
                c.GetProperty("code").GetString()!, c.GetProperty("name").GetString()!,
                c.TryGetProperty("description", out var d) ? d.GetString() : null)));
        }
        return (conversation, policy);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
