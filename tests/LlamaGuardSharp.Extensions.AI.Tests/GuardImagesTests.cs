using LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlamaGuardSharp.Extensions.AI.Tests;

/// <summary>Images in the user's message: DataContent classified with the model, UriContent only from allowed hosts, anything else refused before the inner client.</summary>
[Collection(TinyGuardCollection.Name)]
public sealed class GuardImagesTests(TinyGuard tiny)
{
    private static readonly string CameraPath = Path.Combine(TinyGuard.GoldenDir, "images", "p_camera.png");

    private (IChatClient Client, ScriptedChatClient Inner, RecordingGuard Guard) Build(Action<LlamaGuardChatOptions>? configure = null, HttpClient? images = null)
    {
        var inner = new ScriptedChatClient("A camera.");
        var guard = new RecordingGuard(tiny.Model);
        var options = new LlamaGuardChatOptions { TreatUnparseableAsUnsafe = false };
        configure?.Invoke(options);
        return (new LlamaGuardChatClient(inner, guard, options, images), inner, guard);
    }

    [Fact]
    public async Task A_DataContent_image_is_classified_with_the_text_of_its_message()
    {
        byte[] png = await File.ReadAllBytesAsync(CameraPath);
        var (client, _, guard) = Build(o => o.CheckOutput = true);

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, [new TextContent("What is this?"), new DataContent(png, "image/png")])]);

        var expectedInput = await tiny.Model.ClassifyAsync(Conversation.ForPrompt("What is this?", ConversationImage.FromBytes(png)));
        Assert.Equal(expectedInput.UnsafeProbability, ((SafetyVerdict)response.AdditionalProperties![LlamaGuardChatClient.InputVerdictKey]!).UnsafeProbability);
        Assert.True(guard.Conversations[0].HasImage);
        // The answer is judged with the image as its context.
        var expectedOutput = await tiny.Model.ClassifyAsync(Conversation.ForResponse("What is this?", "A camera.", ConversationImage.FromBytes(png)));
        Assert.Equal(expectedOutput.UnsafeProbability, ((SafetyVerdict)response.AdditionalProperties[LlamaGuardChatClient.OutputVerdictKey]!).UnsafeProbability);
    }

    [Fact]
    public async Task In_a_longer_chat_the_history_is_judged_as_text_and_the_new_image_with_its_message()
    {
        byte[] png = await File.ReadAllBytesAsync(CameraPath);
        var (client, _, guard) = Build(o => o.CheckOutput = false);

        await client.GetResponseAsync(
        [
            new ChatMessage(ChatRole.Assistant, "Hi! Ask me anything."),      // leading assistant turn: dropped
            new ChatMessage(ChatRole.User, "Hello"),
            new ChatMessage(ChatRole.Assistant, "Hello, how can I help?"),
            new ChatMessage(ChatRole.Tool, "tool output"),                     // not the user's: dropped
            new ChatMessage(ChatRole.User, "Look at this."),
            new ChatMessage(ChatRole.User, [new TextContent("What is it?"), new DataContent(png, "image/png")]),
        ]);

        Assert.Equal(2, guard.Conversations.Count);
        Assert.Equal(["Hello", "Hello, how can I help?", "Look at this.\n\nWhat is it?"], guard.Conversations[0].Turns.Select(t => t.Text));
        Assert.False(guard.Conversations[0].HasImage);
        var imageTurn = Assert.Single(guard.Conversations[1].Turns);
        Assert.Equal("Look at this.\n\nWhat is it?", imageTurn.Text); // the user's last turn: consecutive messages joined
        Assert.True(imageTurn.HasImage);
    }

    [Fact]
    public async Task An_image_link_from_a_host_not_allowed_is_refused_before_the_inner_client()
    {
        var (client, inner, guard) = Build();

        var e = await Assert.ThrowsAsync<UncheckableContentException>(() => client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, [new TextContent("What is this?"), new UriContent("https://images.example.com/x.png", "image/png")])]));

        Assert.Contains("images.example.com", e.Message);
        Assert.Equal(0, inner.Calls);
        Assert.Empty(guard.Conversations);
    }

    [Fact]
    public async Task An_attachment_the_guard_cannot_judge_is_refused()
    {
        var (client, inner, _) = Build();

        await Assert.ThrowsAsync<UncheckableContentException>(() => client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, [new TextContent("Summarise"), new DataContent(new byte[] { 1, 2, 3 }, "application/pdf")])]));

        Assert.Equal(0, inner.Calls);
    }

    [Fact]
    public async Task An_image_link_from_an_allowed_host_is_downloaded_and_classified()
    {
        byte[] png = await File.ReadAllBytesAsync(CameraPath);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.MapGet("/camera.png", () => Results.Bytes(png, "image/png"));
        app.MapGet("/huge.png", () => Results.Bytes(new byte[300_000], "image/png"));
        await app.StartAsync();
        var root = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        using var http = new HttpClient();
        var (client, _, guard) = Build(o => { o.AllowedImageHosts.Add("127.0.0.1"); o.CheckOutput = false; o.MaxImageBytes = 200_000; }, http);

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, [new TextContent("What is this?"), new UriContent(new Uri(root, "/camera.png"), "image/png")])]);

        var expected = await tiny.Model.ClassifyAsync(Conversation.ForPrompt("What is this?", ConversationImage.FromBytes(png)));
        Assert.Equal(expected.UnsafeProbability, ((SafetyVerdict)response.AdditionalProperties![LlamaGuardChatClient.InputVerdictKey]!).UnsafeProbability);
        Assert.True(png.Length <= 200_000, "fixture: the camera image fits the size limit");

        var e = await Assert.ThrowsAsync<UncheckableContentException>(() => client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, [new TextContent("And this?"), new UriContent(new Uri(root, "/huge.png"), "image/png")])]));
        Assert.Contains("MaxImageBytes", e.Message);
        await app.StopAsync();
    }
}
