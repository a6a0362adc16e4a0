using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LlamaGuardSharp.Server.Tests;

/// <summary>Overload, disconnects, deadlines and the drain, with the real model behind a gate the test controls.</summary>
[Collection(ServiceCollection.Name)]
public sealed class QueueTests(TinyModel model)
{
    private static Task<HttpResponseMessage> Moderate(HttpClient client, string text, CancellationToken cancellationToken = default) =>
        GuardServer.PostJsonAsync(client, "/v1/moderations", new { input = text }, cancellationToken);

    [Fact]
    public async Task BeyondTheQueue429WithRetryAfterAndEveryAcceptedRequestIsAnswered()
    {
        await using var server = new GuardServer(model, new() { ["MaxQueue"] = "2", ["UnreadyWhenQueueFull"] = "true" });
        var client = await server.ReadyClientAsync();
        server.Guard.Close();
        var running = Moderate(client, "one");
        await server.Guard.WaitForStartedAsync(1);
        var queued = new[] { Moderate(client, "two"), Moderate(client, "three") };
        await WaitForAsync(async () => (await client.GetStringAsync("/metrics")).Contains("llamaguard_queue_depth 3"));

        var refused = await Moderate(client, "four");
        await GuardServer.AssertErrorAsync(refused, 429, "rate_limit_error", code: "queue_full");
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal("3", refused.Headers.GetValues("X-Queue-Depth").Single());
        Assert.Equal("true", refused.Headers.GetValues("X-Retry-Safe").Single());
        Assert.Equal(503, (int)(await client.GetAsync("/readyz")).StatusCode); // --unready-when-queue-full

        server.Guard.Open();
        var answers = await Task.WhenAll([running, .. queued]);
        Assert.All(answers, a => Assert.Equal(200, (int)a.StatusCode));
        Assert.Equal(3, server.Guard.Completed);
        Assert.Equal(200, (int)(await client.GetAsync("/readyz")).StatusCode);
        Assert.Contains("llamaguard_requests_total{route=\"/v1/moderations\",status=\"429\"} 1", await client.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task TheQueueShortensWhenItsTailWouldMissTheDeadline()
    {
        await using var server = new GuardServer(model, new() { ["RequestTimeout"] = "2", ["MaxQueue"] = "16" });
        var client = await server.ReadyClientAsync();
        server.Guard.Close();
        var slow = Moderate(client, "slow");
        await server.Guard.WaitForStartedAsync(1);
        await Task.Delay(1100); // one service time of ≈ 1.1 s: (d + 1) × 1.1 s > 2 s for any queue behind a running request
        server.Guard.Open();
        var first = await slow;
        Assert.Equal(200, (int)first.StatusCode);
        Assert.Equal("0", first.Headers.GetValues("X-Queue-Limit").Single()); // the limit as of this answer

        server.Guard.Close();
        var running = Moderate(client, "running");
        await server.Guard.WaitForStartedAsync(2);
        var refused = await Moderate(client, "would wait past its deadline");
        await GuardServer.AssertErrorAsync(refused, 429, "rate_limit_error", code: "queue_full");
        Assert.Equal("0", refused.Headers.GetValues("X-Queue-Limit").Single());
        Assert.Equal("1", refused.Headers.GetValues("X-Queue-Depth").Single());
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        server.Guard.Open();
        Assert.Equal(200, (int)(await running).StatusCode);
    }

    [Fact]
    public async Task DisconnectCancelsRunningAndQueuedWork()
    {
        await using var server = new GuardServer(model);
        var client = await server.ReadyClientAsync();
        server.Guard.Close();
        using var runningCancel = new CancellationTokenSource();
        using var queuedCancel = new CancellationTokenSource();
        var running = Moderate(client, "one", runningCancel.Token);
        await server.Guard.WaitForStartedAsync(1);
        var queued = Moderate(client, "two", queuedCancel.Token);
        await WaitForAsync(async () => (await client.GetStringAsync("/metrics")).Contains("llamaguard_queue_depth 2"));

        queuedCancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        await WaitForAsync(async () => (await client.GetStringAsync("/metrics")).Contains("llamaguard_queue_depth 1"));
        runningCancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        await WaitForAsync(() => Task.FromResult(server.Guard.Cancelled == 1));
        await WaitForAsync(async () => (await client.GetStringAsync("/metrics")).Contains("llamaguard_queue_depth 0"));
        Assert.Equal(1, server.Guard.Started); // the queued request never reached the model
        Assert.Equal(0, server.Guard.Completed);
        server.Guard.Open();
        Assert.Equal(200, (int)(await Moderate(client, "after")).StatusCode);
    }

    [Fact]
    public async Task DeadlineGives504()
    {
        await using var server = new GuardServer(model, new() { ["RequestTimeout"] = "0.3" });
        var client = await server.ReadyClientAsync();
        server.Guard.Close();
        await GuardServer.AssertErrorAsync(await Moderate(client, "slow"), 504, "server_error", code: "timeout");
        Assert.Equal(1, server.Guard.Cancelled);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        for (int i = 0; i < 400; i++)
        {
            if (await condition())
            {
                return;
            }
            await Task.Delay(10);
        }
        Assert.Fail("condition not met within 4 s");
    }
}
