using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Server;

/// <summary>
/// Turns an image reference of a request into encoded bytes: <c>data:</c> URLs always; <c>http(s)</c> URLs only for
/// hosts in <see cref="LlamaGuardServiceOptions.AllowedImageHosts"/>, within size and time limits, following at most
/// <see cref="MaxRedirects"/> redirects and only to allowed hosts, and never to a loopback, private, link-local or
/// otherwise non-public address unless <see cref="LlamaGuardServiceOptions.AllowPrivateImageAddresses"/> is set (SSRF).
/// The address check runs on the addresses actually connected to, so DNS rebinding cannot slip past it.
/// </summary>
internal sealed class ImageSources : IDisposable
{
    public const int MaxRedirects = 3;

    private readonly LlamaGuardServiceOptions _options;
    private readonly ServiceMetrics _metrics;
    private readonly HttpClient _http;

    public ImageSources(LlamaGuardServiceOptions options, ServiceMetrics metrics)
    {
        _options = options;
        _metrics = metrics;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(options.ImageFetchTimeout),
            ConnectCallback = ConnectToPublicAddressAsync,
        };
        _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("llamaguard-serve", "1.0"));
    }

    /// <summary>The image behind <paramref name="url"/>; errors are 400s naming <paramref name="param"/>.</summary>
    public async Task<ConversationImage> ResolveAsync(string url, string param, CancellationToken cancellationToken)
    {
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            return FromDataUrl(url, param);
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw ApiException.BadRequest("An image URL must be a data: URL (data:image/png;base64,…) or an http(s) URL.", param, "invalid_image_url");
        }
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            return await FetchAsync(uri, param, cancellationToken);
        }
        finally
        {
            _metrics.Stage("image_fetch", System.Diagnostics.Stopwatch.GetElapsedTime(start));
        }
    }

    private ConversationImage FromDataUrl(string url, string param)
    {
        int comma = url.IndexOf(',');
        if (comma < 0)
        {
            throw ApiException.BadRequest("A data: URL needs a comma before its data (data:image/png;base64,…).", param, "invalid_image_url");
        }
        var header = url.AsSpan(5, comma - 5);
        if (!header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
        {
            throw ApiException.BadRequest("Only base64 data: URLs are supported (data:image/png;base64,…).", param, "invalid_image_url");
        }
        var data = url.AsSpan(comma + 1);
        if ((long)data.Length / 4 * 3 > _options.MaxImageBytes + 3)
        {
            throw ImageTooLarge(param);
        }
        byte[] bytes = new byte[data.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64Chars(data, bytes, out int written))
        {
            throw ApiException.BadRequest("The data: URL's data is not valid base64.", param, "invalid_image_url");
        }
        if (written == 0)
        {
            throw ApiException.BadRequest("The data: URL holds no bytes.", param, "invalid_image");
        }
        if (written > _options.MaxImageBytes)
        {
            throw ImageTooLarge(param);
        }
        return ConversationImage.FromBytes(bytes.AsMemory(0, written), "data: URL");
    }

    private async Task<ConversationImage> FetchAsync(Uri uri, string param, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(_options.ImageFetchTimeout));
        try
        {
            for (int hop = 0; ; hop++)
            {
                if (!IsAllowedHost(uri.IdnHost))
                {
                    throw ApiException.BadRequest(hop == 0
                        ? $"Images are not fetched from {uri.IdnHost}: use a data: URL, or ask the operator to add the host to AllowedImageHosts (--allowed-image-hosts)."
                        : $"The image URL redirects to {uri.IdnHost}, which is not an allowed image host.", param, "image_url_not_allowed");
                }
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (hop == MaxRedirects)
                    {
                        throw ApiException.BadRequest($"The image URL redirects more than {MaxRedirects} times.", param, "image_fetch_failed");
                    }
                    uri = new Uri(uri, location);
                    if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                    {
                        throw ApiException.BadRequest("The image URL redirects to a non-http(s) URL.", param, "image_fetch_failed");
                    }
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                {
                    throw ApiException.BadRequest($"Fetching the image failed: {uri.IdnHost} answered {(int)response.StatusCode}.", param, "image_fetch_failed");
                }
                if (response.Content.Headers.ContentLength > _options.MaxImageBytes)
                {
                    throw ImageTooLarge(param);
                }
                byte[] bytes = await ReadLimitedAsync(response.Content, param, deadline.Token);
                if (bytes.Length == 0)
                {
                    throw ApiException.BadRequest("The image URL returned no bytes.", param, "invalid_image");
                }
                return ConversationImage.FromBytes(bytes, uri.GetLeftPart(UriPartial.Path));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw ApiException.BadRequest($"Fetching the image took longer than {_options.ImageFetchTimeout:0.#} s.", param, "image_fetch_timeout");
        }
        catch (HttpRequestException e) when (e.InnerException is ForbiddenAddressException forbidden)
        {
            throw ApiException.BadRequest(forbidden.Message, param, "image_url_not_allowed");
        }
        catch (HttpRequestException e)
        {
            throw ApiException.BadRequest($"Fetching the image from {uri.IdnHost} failed ({e.HttpRequestError}).", param, "image_fetch_failed");
        }
    }

    private async Task<byte[]> ReadLimitedAsync(HttpContent content, string param, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > _options.MaxImageBytes)
            {
                throw ImageTooLarge(param);
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    private ApiException ImageTooLarge(string param) =>
        ApiException.BadRequest($"The image is larger than the limit of {_options.MaxImageBytes} bytes.", param, "image_too_large");

    /// <summary>Exact host names (case-insensitive) or <c>*.example.com</c> for its subdomains.</summary>
    internal bool IsAllowedHost(string host) => _options.AllowedImageHosts.Any(allowed =>
        allowed.StartsWith("*.", StringComparison.Ordinal)
            ? host.EndsWith(allowed[1..], StringComparison.OrdinalIgnoreCase) && host.Length > allowed.Length - 1
            : string.Equals(host, allowed.Trim('[', ']'), StringComparison.OrdinalIgnoreCase) || string.Equals(host, allowed, StringComparison.OrdinalIgnoreCase));

    private async ValueTask<Stream> ConnectToPublicAddressAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        IPAddress[] addresses = IPAddress.TryParse(endpoint.Host, out var literal) ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        if (!_options.AllowPrivateImageAddresses)
        {
            addresses = addresses.Where(IsPublic).ToArray();
            if (addresses.Length == 0)
            {
                throw new ForbiddenAddressException(
                    $"The image host {endpoint.Host} resolves to a loopback, private or otherwise non-public address; such addresses are refused unless AllowPrivateImageAddresses is set.");
            }
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>False for every address a server-side fetch must not reach by default.</summary>
    internal static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return false;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            byte[] b = address.GetAddressBytes();
            return !(b[0] == 0 || b[0] == 10 || b[0] == 127 || b[0] >= 224 // this network, private, loopback, multicast/reserved
                || (b[0] == 100 && b[1] >= 64 && b[1] < 128)                 // carrier-grade NAT
                || (b[0] == 169 && b[1] == 254)                                // link-local (cloud metadata)
                || (b[0] == 172 && b[1] >= 16 && b[1] < 32)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)                     // IETF protocol assignments
                || (b[0] == 198 && (b[1] == 18 || b[1] == 19)));               // benchmarking
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            byte[] b = address.GetAddressBytes();
            return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal
                || (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)  // documentation
                || (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b)); // NAT64 (may reach private IPv4)
        }
        return false;
    }

    public void Dispose() => _http.Dispose();

    private sealed class ForbiddenAddressException(string message) : Exception(message);
}
