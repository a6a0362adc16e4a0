using LlamaGuardSharp.Safety;
using Microsoft.Extensions.AI;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// Turns the images of a user message into the bytes the guard classifies: <see cref="DataContent"/> as given,
/// <see cref="UriContent"/> downloaded only from <see cref="LlamaGuardChatOptions.AllowedImageHosts"/> (http/https,
/// at most <see cref="LlamaGuardChatOptions.MaxImageBytes"/>). Anything it cannot check is an
/// <see cref="UncheckableContentException"/>, so unchecked content never reaches the inner client.
/// </summary>
internal sealed class ChatImageResolver(HttpClient? httpClient, LlamaGuardChatOptions options)
{
    public async Task<ConversationImage> ResolveAsync(AIContent content, CancellationToken cancellationToken)
    {
        switch (content)
        {
            case DataContent data when data.HasTopLevelMediaType("image"):
                if (data.Data.IsEmpty)
                {
                    throw new UncheckableContentException($"The image {data.Name ?? "(data)"} in the user's message has no bytes.");
                }
                return ConversationImage.FromBytes(data.Data, data.Name);
            case UriContent uri when uri.HasTopLevelMediaType("image"):
                return await DownloadAsync(uri.Uri, cancellationToken).ConfigureAwait(false);
            default:
                throw new UncheckableContentException(
                    $"The user's message holds {Describe(content)}, which the guard cannot check (it judges text and images only).");
        }
    }

    private async Task<ConversationImage> DownloadAsync(Uri uri, CancellationToken cancellationToken)
    {
        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new UncheckableContentException($"The image URI {uri} is not an absolute http(s) URI; give the image as DataContent.");
        }
        if (!options.AllowedImageHosts.Contains(uri.Host))
        {
            throw new UncheckableContentException(
                $"The image host '{uri.Host}' is not in LlamaGuardChatOptions.AllowedImageHosts, so the image cannot be checked; allow the host or give the image as DataContent.");
        }
        if (httpClient is null)
        {
            throw new UncheckableContentException($"No HttpClient is available to download the image {uri}.");
        }
        try
        {
            using var response = await httpClient.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new UncheckableContentException($"Downloading the image {uri} failed with HTTP {(int)response.StatusCode}.");
            }
            if (response.Content.Headers.ContentLength is long length && length > options.MaxImageBytes)
            {
                throw TooLarge(uri);
            }
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            using var buffer = new MemoryStream();
            byte[] chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > options.MaxImageBytes)
                {
                    throw TooLarge(uri);
                }
                buffer.Write(chunk, 0, read);
            }
            if (buffer.Length == 0)
            {
                throw new UncheckableContentException($"The image {uri} is empty.");
            }
            return ConversationImage.FromBytes(buffer.ToArray(), uri.ToString());
        }
        catch (HttpRequestException e)
        {
            throw new UncheckableContentException($"Downloading the image {uri} failed: {e.Message}", e);
        }
    }

    private UncheckableContentException TooLarge(Uri uri) =>
        new($"The image {uri} is larger than LlamaGuardChatOptions.MaxImageBytes ({options.MaxImageBytes} bytes).");

    private static string Describe(AIContent content) => content switch
    {
        DataContent data => $"a {data.MediaType} attachment",
        UriContent uri => $"a {uri.MediaType} link ({uri.Uri})",
        _ => $"a {content.GetType().Name}",
    };

    /// <summary>Whether <paramref name="content"/> is an attachment the guard must see (anything but text and reasoning/tool bookkeeping).</summary>
    public static bool IsAttachment(AIContent content) => content is DataContent or UriContent;
}
