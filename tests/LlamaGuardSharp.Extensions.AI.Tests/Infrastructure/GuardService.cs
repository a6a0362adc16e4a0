using System.Collections.Concurrent;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;

/// <summary>
/// The real <c>llamaguard serve</c> (<see cref="LlamaGuardServer.Build"/>) in-process on Kestrel at 127.0.0.1 (free
/// port), answering with the given guard. A middleware in front of it records each <c>POST /v1/classify</c> and can
/// answer the next ones with <see cref="Faults"/> (a status with the service's error envelope, a delay), for the
/// client's retry and timeout tests; everything else is the service's own behaviour.
/// </summary>
public sealed class GuardService : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private GuardService(WebApplication app) => _app = app;

    /// <summary>The root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>Answers for the next classify requests, in order, instead of the service (each answers one request).</summary>
    public ConcurrentQueue<Func<HttpContext, Task>> Faults { get; } = new();

    /// <summary>Classify requests received (faulted ones included).</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The Authorization header of the last classify request.</summary>
    public string? LastAuthorization { get; private set; }

    /// <summary>The body of the last classify request.</summary>
    public string? LastBody { get; private set; }

    /// <summary>Starts the service with <paramref name="loader"/> (default: <paramref name="guard"/>, ready at once) and
    /// <paramref name="settings"/> (keys of section <c>LlamaGuard</c>), and waits until it listens (and, unless told not to, is ready).</summary>
    public static async Task<GuardService> StartAsync(IContentGuard guard, Dictionary<string, string?>? settings = null,
        IContentGuardLoader? loader = null, bool waitReady = true)
    {
        var all = new Dictionary<string, string?> { [WebHostDefaults.ServerUrlsKey] = "http://127.0.0.1:0" };
        foreach (var (key, value) in settings ?? [])
        {
            all["LlamaGuard:" + key] = value;
        }
        GuardService? service = null;
        var app = LlamaGuardServer.Build([], all, services =>
        {
            services.AddSingleton(loader ?? new ReadyLoader(guard));
            services.AddSingleton<IStartupFilter>(new FaultFilter(() => service!));
        });
        service = new GuardService(app);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        service.Address = new Uri(address.TrimEnd('/') + "/");
        if (waitReady)
        {
            using var http = new HttpClient { BaseAddress = service.Address };
            for (int i = 0; (await http.GetAsync("readyz")).StatusCode != System.Net.HttpStatusCode.OK; i++)
            {
                Assert.True(i < 400, "the service did not become ready");
                await Task.Delay(25);
            }
        }
        return service;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task InterceptAsync(HttpContext context, Func<Task> next)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || context.Request.Path != "/v1/classify")
        {
            await next();
            return;
        }
        Interlocked.Increment(ref _requests);
        LastAuthorization = context.Request.Headers.Authorization;
        context.Request.EnableBuffering();
        using (var reader = new StreamReader(context.Request.Body, leaveOpen: true))
        {
            LastBody = await reader.ReadToEndAsync(context.RequestAborted);
        }
        context.Request.Body.Position = 0;
        if (Faults.TryDequeue(out var fault))
        {
            context.Response.Headers["X-Request-Id"] = "fault-" + Requests;
            await fault(context);
            return;
        }
        await next();
    }

    /// <summary>Puts <see cref="InterceptAsync"/> in front of the service's pipeline.</summary>
    private sealed class FaultFilter(Func<GuardService> service) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) => service().InterceptAsync(context, () => nextMiddleware(context)));
            next(app);
        };
    }
}

/// <summary>Hands the service a guard that is already loaded.</summary>
public sealed class ReadyLoader(IContentGuard guard) : IContentGuardLoader
{
    public Task<LoadedGuard> LoadAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new LoadedGuard(guard, "tiny-guard", TimeSpan.Zero, Owner: null));
}

/// <summary>A load that never finishes: the service stays not ready (503).</summary>
public sealed class NeverLoader : IContentGuardLoader
{
    public async Task<LoadedGuard> LoadAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        throw new OperationCanceledException(cancellationToken);
    }
}
