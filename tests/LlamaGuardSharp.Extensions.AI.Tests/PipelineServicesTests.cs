using System.Net;
using LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace LlamaGuardSharp.Extensions.AI.Tests;

/// <summary>What UseLlamaGuard takes from the pipeline's services and exposes through GetService.</summary>
[Collection(TinyGuardCollection.Name)]
public sealed class PipelineServicesTests(TinyGuard tiny)
{
    [Fact]
    public void The_pipeline_exposes_the_guard_client_and_the_guard()
    {
        using var chat = new ChatClientBuilder(new ScriptedChatClient("Hi")).UseLlamaGuard(tiny.Model).Build();

        Assert.IsType<LlamaGuardChatClient>(chat.GetService<LlamaGuardChatClient>());
        Assert.Same(tiny.Model, chat.GetService<IContentGuard>());
        Assert.Same(tiny.Model, chat.GetService<GuardModel>());
        Assert.IsType<ScriptedChatClient>(chat.GetService<ScriptedChatClient>());
    }

    [Fact]
    public async Task Image_links_are_downloaded_with_the_factorys_named_client()
    {
        byte[] png = await File.ReadAllBytesAsync(Path.Combine(TinyGuard.GoldenDir, "images", "m_square_64.png"));
        var downloads = new List<Uri>();
        var services = new ServiceCollection();
        services.AddHttpClient(LlamaGuardChatClientBuilderExtensions.ImageHttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new ImageHandler(png, downloads));
        await using var provider = services.BuildServiceProvider();
        using var chat = new ChatClientBuilder(new ScriptedChatClient("A square."))
            .UseLlamaGuard(tiny.Model, o => { o.AllowedImageHosts.Add("images.example.com"); o.TreatUnparseableAsUnsafe = false; o.CheckOutput = false; })
            .Build(provider);

        var response = await chat.GetResponseAsync([new ChatMessage(ChatRole.User,
            [new TextContent("What is this?"), new UriContent("https://images.example.com/square.png", "image/png")])]);

        Assert.Equal([new Uri("https://images.example.com/square.png")], downloads);
        var expected = await tiny.Model.ClassifyAsync(Conversation.ForPrompt("What is this?", ConversationImage.FromBytes(png)));
        Assert.Equal(expected.UnsafeProbability, ((SafetyVerdict)response.AdditionalProperties![LlamaGuardChatClient.InputVerdictKey]!).UnsafeProbability);
    }

    /// <summary>Stands for the image host: answers every GET with the image.</summary>
    private sealed class ImageHandler(byte[] image, List<Uri> downloads) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            downloads.Add(request.RequestUri!);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(image) });
        }
    }
}
