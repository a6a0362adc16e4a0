using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace LlamaGuardSharp.Server.Tests;

/// <summary>
/// http(s) image URLs and the SSRF rules, against a real image server on a loopback port (allowed only by explicit
/// configuration: the host in AllowedImageHosts and AllowPrivateImageAddresses, because loopback is never public).
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class ImageUrlTests(TinyModel model) : IAsyncLifetime
{
    private WebApplication _images = null!;
    private int _hits;

    private string Base { get; set; } = "";

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _images = builder.Build();
        _images.Use((context, next) =>
        {
            Interlocked.Increment(ref _hits);
            return next(context);
        });
        _images.MapGet("/img.png", () => Results.Bytes(TinyModel.Png, "image/png"));
        _images.MapGet("/big.png", () => Results.Bytes(new byte[200_000], "image/png"));
        _images.MapGet("/redirect-in", () => Results.Redirect("/img.png"));
        _images.MapGet("/redirect-out", () => Results.Redirect("http://images.example.invalid/x.png"));
        _images.MapGet("/slow.png", async (CancellationToken token) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), token);
            return Results.Bytes(TinyModel.Png, "image/png");
        });
        await _images.StartAsync();
        Base = _images.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    public async Task DisposeAsync() => await _images.DisposeAsync();

    private static Task<HttpResponseMessage> Classify(HttpClient client, string image) =>
        GuardServer.PostJsonAsync(client, "/v1/classify", new { turns = new[] { new { role = "user", content = "what is this?" } }, image });

    private static Dictionary<string, string?> Allowing(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["AllowedImageHosts:0"] = "127.0.0.1" };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }
        return settings;
    }

    [Fact]
    public async Task HttpUrlsAreRefusedUnlessTheHostIsAllowed()
    {
        await using var server = new GuardServer(model);
        var client = await server.ReadyClientAsync();
        await GuardServer.AssertErrorAsync(await Classify(client, Base + "/img.png"), 400, "invalid_request_error", "image", "image_url_not_allowed");
        Assert.Equal(0, _hits);
    }

    [Fact]
    public async Task AnAllowedHostOnALoopbackAddressIsStillRefusedByDefault()
    {
        await using var server = new GuardServer(model, Allowing(("AllowedImageHosts:1", "localhost")));
        var client = await server.ReadyClientAsync();
        await GuardServer.AssertErrorAsync(await Classify(client, Base + "/img.png"), 400, "invalid_request_error", "image", "image_url_not_allowed");
        await GuardServer.AssertErrorAsync(await Classify(client, Base.Replace("127.0.0.1", "localhost") + "/img.png"),
            400, "invalid_request_error", "image", "image_url_not_allowed");
        Assert.Equal(0, _hits); // refused before connecting
    }

    [Fact]
    public async Task ExplicitlyAllowedLoopbackServerIsFetchedWithinItsLimits()
    {
        await using var server = new GuardServer(model, Allowing(("AllowPrivateImageAddresses", "true"), ("MaxImageBytes", "100000"), ("ImageFetchTimeout", "0.5")));
        var client = await server.ReadyClientAsync();
        Assert.Equal(200, (int)(await Classify(client, Base + "/img.png")).StatusCode);
        Assert.Equal(200, (int)(await Classify(client, Base + "/redirect-in")).StatusCode);
        await GuardServer.AssertErrorAsync(await Classify(client, Base + "/redirect-out"), 400, "invalid_request_error", "image", "image_url_not_allowed");
        await GuardServer.AssertErrorAsync(await Classify(client, Base + "/big.png"), 400, "invalid_request_error", "image", "image_too_large");
        await GuardServer.AssertErrorAsync(await Classify(client, Base + "/missing.png"), 400, "invalid_request_error", "image", "image_fetch_failed");
        await GuardServer.AssertErrorAsync(await Classify(client, Base + "/slow.png"), 400, "invalid_request_error", "image", "image_fetch_timeout");
        Assert.Equal(2, server.Guard.Completed);
        Assert.Contains("llamaguard_stage_duration_seconds_count{stage=\"image_fetch\"} 6", await client.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task DataUrlsOverTheImageLimitAre400()
    {
        await using var server = new GuardServer(model, new() { ["MaxImageBytes"] = "100" });
        var client = await server.ReadyClientAsync();
        await GuardServer.AssertErrorAsync(await Classify(client, TinyModel.PngDataUrl), 400, "invalid_request_error", "image", "image_too_large");
    }

    [Theory]
    [InlineData("127.0.0.1", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)] // cloud metadata
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("::ffff:127.0.0.1", false)]
    [InlineData("8.8.8.8", true)]
    [InlineData("2606:4700:4700::1111", true)]
    public void PublicAddressRule(string address, bool isPublic) => Assert.Equal(isPublic, ImageSources.IsPublic(IPAddress.Parse(address)));
}
