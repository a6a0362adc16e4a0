using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// The <see cref="IContentGuard"/> of a remote <c>llamaguard serve</c>: a typed <see cref="HttpClient"/> client of its
/// native API <c>POST /v1/classify</c>. It gives the same verdicts as a <see cref="GuardModel"/> in-process with the
/// same model. Registered with retries and timeouts by <c>services.AddLlamaGuard(...)</c>; built by hand, give it an
/// <see cref="HttpClient"/> whose <see cref="HttpClient.BaseAddress"/> is the service (and an <c>Authorization: Bearer</c>
/// header when the service has API keys).
/// </summary>
public sealed class LlamaGuardClient : IContentGuard
{
    private readonly HttpClient _http;

    /// <summary>Creates the client on <paramref name="httpClient"/> (its <see cref="HttpClient.BaseAddress"/> is the service's root).</summary>
    public LlamaGuardClient(HttpClient httpClient)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        if (httpClient.BaseAddress is null)
        {
            throw new ArgumentException("The HttpClient needs a BaseAddress: the llamaguard serve root, e.g. http://127.0.0.1:8000/.", nameof(httpClient));
        }
        _http = httpClient;
    }

    /// <summary>
    /// Classifies the last turn of <paramref name="conversation"/> on the service (<c>task</c> prompt or response from the
    /// last turn), against <paramref name="policy"/> sent as its full category list (null: the service's default S1–S13).
    /// </summary>
    /// <exception cref="ArgumentException">the image is on a user turn other than the first (the native API attaches it to the first) or is a placeholder.</exception>
    /// <exception cref="LlamaGuardServiceException">the service refused or could not answer; see the subclasses.</exception>
    public async Task<SafetyVerdict> ClassifyAsync(Conversation conversation, SafetyPolicy? policy = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        byte[] body = ClassifyRequestJson.Write(conversation, policy);
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/classify")
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
        };
        string json = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        try
        {
            return VerdictJson.Deserialize(json);
        }
        catch (JsonException e)
        {
            throw new LlamaGuardServiceException($"The service's answer is not a verdict: {e.Message}", HttpStatusCode.OK, innerException: e);
        }
    }

    /// <summary>Whether the service is ready to classify (<c>GET /readyz</c> answers 2xx); false when it is loading, draining or unreachable.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            using var response = await _http.GetAsync("readyz", cancellationToken).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutRejectedException or BrokenCircuitException
            || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    private async Task<string> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new LlamaGuardUnavailableException($"Cannot reach llamaguard serve at {_http.BaseAddress}: {e.Message}", innerException: e);
        }
        catch (TimeoutRejectedException e)
        {
            throw new LlamaGuardUnavailableException($"llamaguard serve at {_http.BaseAddress} did not answer within the timeout ({e.Timeout.TotalSeconds:0.#} s).", innerException: e);
        }
        catch (BrokenCircuitException e)
        {
            throw new LlamaGuardUnavailableException($"llamaguard serve at {_http.BaseAddress} failed repeatedly; calls are paused by the circuit breaker.", innerException: e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LlamaGuardUnavailableException($"llamaguard serve at {_http.BaseAddress} did not answer within HttpClient.Timeout.", innerException: e);
        }
        using (response)
        {
            string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                return text;
            }
            throw ServiceError(response, text);
        }
    }

    /// <summary>The typed exception for an error answer, from its status and OpenAI-style envelope.</summary>
    private static LlamaGuardServiceException ServiceError(HttpResponseMessage response, string body)
    {
        string? message = null, type = null, param = null, code = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                message = StringOf(error, "message");
                type = StringOf(error, "type");
                param = StringOf(error, "param");
                code = StringOf(error, "code");
            }
        }
        catch (JsonException)
        {
            // Not the service's envelope (a proxy's page, say): the status and the start of the body say what happened.
        }
        string? requestId = response.Headers.TryGetValues("X-Request-Id", out var ids) ? ids.FirstOrDefault() : null;
        var status = response.StatusCode;
        string detail = message ?? (body.Length > 200 ? body[..200] + "…" : body);
        string text = $"llamaguard serve answered {(int)status} {response.ReasonPhrase}: {detail}";
        return status switch
        {
            HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge => new LlamaGuardRequestException(text, status, type, param, code, requestId),
            HttpStatusCode.Unauthorized => new LlamaGuardAuthenticationException(text, type, code, requestId),
            HttpStatusCode.TooManyRequests => new LlamaGuardRateLimitException(text, RetryAfter(response), type, code, requestId),
            HttpStatusCode.ServiceUnavailable => new LlamaGuardUnavailableException(text, status, type, requestId),
            _ => new LlamaGuardServiceException(text, status, type, param, code, requestId),
        };
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow,
        _ => null,
    };

    private static string? StringOf(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => value.GetRawText(),
        } : null;
}
