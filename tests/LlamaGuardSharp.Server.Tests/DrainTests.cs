using System.Net.Http.Json;
using LlamaGuardSharp.Inference;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LlamaGuardSharp.Server.Tests;

/// <summary>
/// SIGTERM on a real Kestrel server on a loopback port: <see cref="IHostApplicationLifetime.StopApplication"/> is what
/// the host's console lifetime calls on SIGTERM, and the host then stops exactly as it would in production.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class DrainTests(TinyModel model)
{
    private sealed record Running(WebApplication App, Task<int> Run, HttpClient Client, GatedGuard Guard) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Guard.Open();
            if (!Run.IsCompleted)
            {
                App.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
                await Run.WaitAsync(TimeSpan.FromSeconds(30));
            }
            Client.Dispose(); // RunAsync disposed the app
        }
    }

    private async Task<Running> StartAsync(double drainTimeout)
    {
        var guard = new GatedGuard(model.Model);
        var app = LlamaGuardServer.Build([], new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["LlamaGuard:DrainTimeout"] = drainTimeout.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, services => services.AddSingleton<IContentGuardLoader>(new FixedLoader(new LoadedGuard(guard, "tiny", TimeSpan.Zero, null))));
        var run = LlamaGuardServer.RunAsync(app);
        string? address = null;
        for (int i = 0; i < 500 && address is null; i++)
        {
            address = app.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault(a => !a.EndsWith(":0", StringComparison.Ordinal));
            await Task.Delay(10);
        }
        var client = new HttpClient { BaseAddress = new Uri(address ?? throw new TimeoutException("no address")), Timeout = TimeSpan.FromSeconds(60) };
        for (int i = 0; i < 500 && !(await client.GetAsync("/readyz")).IsSuccessStatusCode; i++)
        {
            await Task.Delay(10);
        }
        return new Running(app, run, client, guard);
    }

    private static Task<HttpResponseMessage> Moderate(HttpClient client, string text) => client.PostAsJsonAsync("/v1/moderations", new { input = text });

    [Fact]
    public async Task SigtermFinishesRunningAndQueuedWorkThenExitsZero()
    {
        await using var server = await StartAsync(drainTimeout: 30);
        server.Guard.Close();
        var running = Moderate(server.Client, "one");
        await server.Guard.WaitForStartedAsync(1);
        var queued = Moderate(server.Client, "two");
        var state = server.App.Services.GetRequiredService<GuardState>();
        var queue = server.App.Services.GetRequiredService<ClassificationQueue>();
        for (int i = 0; i < 400 && queue.Depth < 2; i++)
        {
            await Task.Delay(10);
        }
        Assert.Equal(2, queue.Depth);

        var lifetime = server.App.Services.GetRequiredService<IHostApplicationLifetime>();
        lifetime.StopApplication();
        Assert.False(state.IsReady); // /readyz answers 503 from here on
        await Task.Delay(200);
        Assert.False(server.Run.IsCompleted); // waiting for the work, not cutting it off
        server.Guard.Open();
        Assert.Equal(200, (int)(await running).StatusCode);
        Assert.Equal(200, (int)(await queued).StatusCode);
        Assert.Equal(0, await server.Run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(2, server.Guard.Completed);
    }

    [Fact]
    public async Task WorkLeftWhenTheDrainTimeoutEndsIsAnswered503()
    {
        await using var server = await StartAsync(drainTimeout: 0.3);
        server.Guard.Close();
        var running = Moderate(server.Client, "one");
        await server.Guard.WaitForStartedAsync(1);
        var queued = Moderate(server.Client, "two");
        var queue = server.App.Services.GetRequiredService<ClassificationQueue>();
        for (int i = 0; i < 400 && queue.Depth < 2; i++)
        {
            await Task.Delay(10);
        }
        server.App.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        foreach (var answer in new[] { await running, await queued })
        {
            await GuardServer.AssertErrorAsync(answer, 503, "server_error", code: "draining");
            Assert.Equal("true", answer.Headers.GetValues("X-Retry-Safe").Single());
        }
        Assert.Equal(0, await server.Run.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task AModelThatFailsToLoadStopsTheServiceWithExitCode1()
    {
        var app = LlamaGuardServer.Build([], new Dictionary<string, string?> { ["urls"] = "http://127.0.0.1:0" },
            services => services.AddSingleton<IContentGuardLoader>(new FailingLoader()));
        var error = new StringWriter();
        int exit = await LlamaGuardServer.RunAsync(app, error).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, exit);
        Assert.Equal("error: loading the model failed: config.json is missing" + Environment.NewLine, error.ToString());
    }

    private sealed class FailingLoader : IContentGuardLoader
    {
        public async Task<LoadedGuard> LoadAsync(CancellationToken cancellationToken)
        {
            await Task.Delay(50, cancellationToken);
            throw new InvalidDataException("config.json is missing");
        }
    }
}
