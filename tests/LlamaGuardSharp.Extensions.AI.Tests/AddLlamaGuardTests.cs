using LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace LlamaGuardSharp.Extensions.AI.Tests;

/// <summary>services.AddLlamaGuard(configuration section): the in-process model loaded by a hosted service with a readiness check, or the remote client; validated at start.</summary>
[Collection(TinyGuardCollection.Name)]
public sealed class AddLlamaGuardTests(TinyGuard tiny)
{
    private static IHost BuildHost(Dictionary<string, string?> settings, Action<IServiceCollection>? more = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLlamaGuard(builder.Configuration.GetSection("LlamaGuard"));
        more?.Invoke(builder.Services);
        return builder.Build();
    }

    private static Task<HealthReport> WaitForHealthAsync(IHost host, HealthStatus wanted) => WaitForHealthAsync(host, r => r.Status == wanted);

    /// <summary>Polls the readiness checks until <paramref name="done"/> (a loading model is Unhealthy too, so tests name what they wait for).</summary>
    private static async Task<HealthReport> WaitForHealthAsync(IHost host, Func<HealthReport, bool> done)
    {
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var report = await health.CheckHealthAsync(r => r.Tags.Contains("ready"));
            if (done(report) || DateTime.UtcNow > deadline)
            {
                return report;
            }
            await Task.Delay(50);
        }
    }

    /// <summary>The validation failure of a host start (the host aggregates the failures of every options type validated at start,
    /// and the remote client's resilience options read ours, so the same message may come twice).</summary>
    private static async Task<OptionsValidationException> StartFailureAsync(IHost host)
    {
        var e = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());
        var failures = e is AggregateException aggregate ? aggregate.InnerExceptions : [e];
        Assert.All(failures, f => Assert.IsType<OptionsValidationException>(f));
        return (OptionsValidationException)failures[0];
    }

    [Fact]
    public async Task ModelPath_loads_the_model_once_at_start_reports_readiness_and_guards_the_pipeline()
    {
        using var host = BuildHost(new() { ["LlamaGuard:ModelPath"] = tiny.Directory, ["LlamaGuard:Threads"] = "1" },
            s => s.AddChatClient(new ScriptedChatClient("Hello!")).UseLlamaGuard(configure: o => o.OnViolation = GuardViolationAction.Refuse));
        var guard = host.Services.GetRequiredService<IContentGuard>();
        Assert.Same(guard, host.Services.GetRequiredService<IContentGuard>()); // one model for the application

        await host.StartAsync();
        var report = await WaitForHealthAsync(host, HealthStatus.Healthy);
        Assert.Equal(HealthStatus.Healthy, report.Status);
        Assert.Contains(tiny.Directory, report.Entries["llamaguard"].Description);

        var conversation = Conversation.ForPrompt("Hi");
        var verdict = await guard.ClassifyAsync(conversation);
        Assert.Equal((await tiny.Model.ClassifyAsync(conversation)).UnsafeProbability, verdict.UnsafeProbability);

        var chat = host.Services.GetRequiredService<IChatClient>();
        var response = await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "Hi")]);
        Assert.Equal(ChatFinishReason.ContentFilter, response.FinishReason); // the tiny model's unparseable verdict fails closed
        Assert.Equal(0, ((ScriptedChatClient)chat.GetService(typeof(ScriptedChatClient))!).Calls);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_model_that_fails_to_load_makes_readiness_and_classification_fail_with_the_cause()
    {
        string empty = Directory.CreateTempSubdirectory("lgs-empty-model-").FullName;
        try
        {
            using var host = BuildHost(new() { ["LlamaGuard:ModelPath"] = empty });
            await host.StartAsync();

            var report = await WaitForHealthAsync(host, r => r.Entries["llamaguard"].Description != "Llama Guard is loading.");
            var entry = report.Entries["llamaguard"];
            Assert.Equal(HealthStatus.Unhealthy, entry.Status);
            Assert.NotNull(entry.Exception);
            Assert.Equal("Loading Llama Guard failed.", entry.Description);

            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => host.Services.GetRequiredService<IContentGuard>().ClassifyAsync(Conversation.ForPrompt("Hi")));
            Assert.Contains(empty, e.Message);
            await host.StopAsync();
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public async Task Endpoint_registers_the_remote_client_and_its_readiness()
    {
        await using var server = await GuardService.StartAsync(tiny.Model);
        using var host = BuildHost(new() { ["LlamaGuard:Endpoint"] = server.Address.ToString(), ["LlamaGuard:Timeout"] = "00:00:30" });
        await host.StartAsync();

        Assert.IsType<LlamaGuardClient>(host.Services.GetRequiredService<IContentGuard>());
        Assert.Equal(HealthStatus.Healthy, (await WaitForHealthAsync(host, HealthStatus.Healthy)).Status);
        await host.StopAsync();
    }

    [Theory]
    [InlineData(null, null, "set ModelPath")]
    [InlineData("/nonexistent/lgs-model", null, "is not a folder")]
    [InlineData("TINY", "http://127.0.0.1:1/", "not both")]
    [InlineData(null, "ftp://guard/", "absolute http or https")]
    public async Task Invalid_options_fail_the_start_with_a_message_naming_the_setting(string? modelPath, string? endpoint, string expected)
    {
        using var host = BuildHost(new()
        {
            ["LlamaGuard:ModelPath"] = modelPath == "TINY" ? tiny.Directory : modelPath,
            ["LlamaGuard:Endpoint"] = endpoint,
        });

        var e = await StartFailureAsync(host);

        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task An_int8_sidecar_without_int8_precision_fails_the_start()
    {
        using var host = BuildHost(new() { ["LlamaGuard:ModelPath"] = tiny.Directory, ["LlamaGuard:Int8SidecarPath"] = "/tmp" });

        var e = await StartFailureAsync(host);

        Assert.Contains("Int8SidecarPath applies to Precision Int8", e.Message);
    }

    [Fact]
    public async Task Out_of_range_remote_settings_fail_the_start()
    {
        using var host = BuildHost(new() { ["LlamaGuard:Endpoint"] = "http://127.0.0.1:1/", ["LlamaGuard:MaxRetries"] = "-1", ["LlamaGuard:Timeout"] = "00:00:00" });

        var e = await StartFailureAsync(host);

        Assert.Contains("MaxRetries", e.Message);
        Assert.Contains("Timeout", e.Message);
    }

    [Fact]
    public async Task The_options_delegate_overload_registers_the_same_guard()
    {
        var services = new ServiceCollection().AddLlamaGuard(o => o.ModelPath = tiny.Directory);
        await using var provider = services.BuildServiceProvider();

        // Without a host nothing calls StartAsync: the first classification starts the load instead of waiting forever.
        var verdict = await provider.GetRequiredService<IContentGuard>().ClassifyAsync(Conversation.ForPrompt("Hi"));

        Assert.Equal((await tiny.Model.ClassifyAsync(Conversation.ForPrompt("Hi"))).UnsafeProbability, verdict.UnsafeProbability);
    }
}
