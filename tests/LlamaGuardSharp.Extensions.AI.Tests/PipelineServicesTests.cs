using System.Net;
using LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

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

    [Fact]
    public async Task A_blocked_exchange_is_logged_without_its_content()
    {
        var logs = new CapturingLoggerProvider();
        await using var provider = new ServiceCollection().AddLogging(b => b.AddProvider(logs)).BuildServiceProvider();
        using var chat = new ChatClientBuilder(new ScriptedChatClient("Hi")).UseLlamaGuard(tiny.Model, o => o.OnViolation = GuardViolationAction.Refuse).Build(provider);

        await chat.GetResponseAsync([new ChatMessage(ChatRole.User, "my secret question")]);

        var entry = Assert.Single(logs.Entries);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.StartsWith("Llama Guard blocked the input: Unparseable", entry.Message);
        Assert.DoesNotContain("secret", entry.Message);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (IsEnabled(logLevel))
                {
                    lock (owner.Entries)
                    {
                        owner.Entries.Add((logLevel, formatter(state, exception)));
                    }
                }
            }
        }
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
