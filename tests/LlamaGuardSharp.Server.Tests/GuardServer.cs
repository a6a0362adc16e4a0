using System.Net.Http.Json;
using System.Text.Json;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace LlamaGuardSharp.Server.Tests;

/// <summary>
/// The real service in-process (WebApplicationFactory over <see cref="Program"/>) answering with the tiny model through
/// a <see cref="GatedGuard"/>, with settings of section <c>LlamaGuard</c> given per test.
/// </summary>
public sealed class GuardServer : WebApplicationFactory<Program>
{
    public const string ModelId = "tiny-guard";

    private readonly Dictionary<string, string?> _settings;
    private readonly IContentGuardLoader _loader;

    public GuardServer(TinyModel model, Dictionary<string, string?>? settings = null, IContentGuardLoader? loader = null)
    {
        Guard = new GatedGuard(model.Model);
        _settings = settings ?? [];
        _loader = loader ?? new FixedLoader(new LoadedGuard(Guard, ModelId, TimeSpan.FromSeconds(0.5), Owner: null));
    }

    public GatedGuard Guard { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting("LlamaGuard:" + key, value);
        }
        builder.ConfigureTestServices(services => services.AddSingleton(_loader));
    }

    /// <summary>An HTTP client after the model is ready.</summary>
    public async Task<HttpClient> ReadyClientAsync()
    {
        var client = CreateClient();
        for (int i = 0; i < 200; i++)
        {
            if ((await client.GetAsync("/readyz")).IsSuccessStatusCode)
            {
                return client;
            }
            await Task.Delay(25);
        }
        throw new TimeoutException("The service did not become ready.");
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>Asserts OpenAI's error envelope with this status, type and (when given) param and code.</summary>
    public static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, int status, string type, string? param = null, string? code = null)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.True(error.TryGetProperty("param", out var p));
        Assert.True(error.TryGetProperty("code", out var c));
        if (param is not null) Assert.Equal(param, p.GetString());
        if (code is not null) Assert.Equal(code, c.GetString());
        Assert.True(response.Headers.Contains("X-Request-Id"));
        return error.Clone();
    }

    public static Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string path, object body, CancellationToken cancellationToken = default) =>
        client.PostAsJsonAsync(path, body, cancellationToken);

    public static async Task<HttpResponseMessage> PostRawAsync(HttpClient client, string path, string json, string contentType = "application/json")
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        return await client.PostAsync(path, content);
    }
}

/// <summary>Loads nothing: hands over an engine that is already loaded.</summary>
public sealed class FixedLoader(LoadedGuard loaded) : IContentGuardLoader
{
    public Task<LoadedGuard> LoadAsync(CancellationToken cancellationToken) => Task.FromResult(loaded);
}

/// <summary>A loader that finishes only when the test says so (readiness while loading).</summary>
public sealed class SlowLoader(LoadedGuard loaded) : IContentGuardLoader
{
    public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<LoadedGuard> LoadAsync(CancellationToken cancellationToken)
    {
        await Release.Task.WaitAsync(cancellationToken);
        return loaded;
    }
}

/// <summary>
/// The real model behind a gate the test can close: while closed, classifications wait (honouring their token) before
/// running, so tests can hold the one running slot, fill the queue, disconnect or drain at chosen moments. Counts what
/// ran and what was cancelled. Optionally fails with an internal error instead (500 tests).
/// </summary>
public sealed class GatedGuard(IContentGuard inner) : IContentGuard
{
    private TaskCompletionSource _gate = Opened();
    private int _started;
    private int _completed;
    private int _cancelled;

    public int Started => Volatile.Read(ref _started);

    public int Completed => Volatile.Read(ref _completed);

    public int Cancelled => Volatile.Read(ref _cancelled);

    public Exception? FailWith { get; set; }

    public void Close() => Interlocked.Exchange(ref _gate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void Open() => _gate.TrySetResult();

    public async Task WaitForStartedAsync(int count)
    {
        for (int i = 0; i < 400 && Started < count; i++)
        {
            await Task.Delay(10);
        }
        Assert.True(Started >= count, $"expected {count} classifications to start, saw {Started}");
    }

    public async Task<SafetyVerdict> ClassifyAsync(Conversation conversation, SafetyPolicy? policy = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _started);
        try
        {
            await _gate.Task.WaitAsync(cancellationToken);
            if (FailWith is { } failure)
            {
                throw failure;
            }
            var verdict = await inner.ClassifyAsync(conversation, policy, cancellationToken);
            Interlocked.Increment(ref _completed);
            return verdict;
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref _cancelled);
            throw;
        }
    }

    private static TaskCompletionSource Opened()
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.SetResult();
        return source;
    }
}
