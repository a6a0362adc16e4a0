using LlamaGuardSharp.Inference;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>Adds <see cref="LlamaGuardChatClient"/> to a chat-client pipeline.</summary>
public static class LlamaGuardChatClientBuilderExtensions
{
    /// <summary>The named <see cref="HttpClient"/> (from <see cref="IHttpClientFactory"/>, when registered) that downloads images from allowed hosts.</summary>
    public const string ImageHttpClientName = "LlamaGuardSharp.Images";

    /// <summary>
    /// Guards the pipeline with Llama Guard: the input is classified before the inner client, the answer after it.
    /// Blocked exchanges are logged through the services' <see cref="ILoggerFactory"/> when there is one.
    /// </summary>
    /// <param name="builder">The chat-client pipeline.</param>
    /// <param name="guard">The classifier; null: the <see cref="IContentGuard"/> registered in the pipeline's services (<c>AddLlamaGuard</c>).</param>
    /// <param name="configure">Sets the <see cref="LlamaGuardChatOptions"/> (validated when the pipeline is built).</param>
    public static ChatClientBuilder UseLlamaGuard(this ChatClientBuilder builder, IContentGuard? guard = null, Action<LlamaGuardChatOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Use((innerClient, services) =>
        {
            var contentGuard = guard ?? services.GetService<IContentGuard>() ?? throw new InvalidOperationException(
                "UseLlamaGuard found no IContentGuard: pass one (a GuardModel or a LlamaGuardClient) or register it with services.AddLlamaGuard(...).");
            var options = new LlamaGuardChatOptions();
            configure?.Invoke(options);
            var logger = services.GetService<ILoggerFactory>()?.CreateLogger<LlamaGuardChatClient>();
            if (options.AllowedImageHosts.Count == 0)
            {
                return new LlamaGuardChatClient(innerClient, contentGuard, options, imageHttpClient: null, logger: logger);
            }
            // From the factory when there is one (pooled handlers); else one of its own, disposed with the pipeline.
            var factory = services.GetService<IHttpClientFactory>();
            var images = factory?.CreateClient(ImageHttpClientName) ?? new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            return new LlamaGuardChatClient(innerClient, contentGuard, options, images, ownsImageHttpClient: factory is null, logger);
        });
    }
}
