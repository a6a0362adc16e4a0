using System.Globalization;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Server;

/// <summary>
/// Runs the classifications of one request through the queue: readiness check, deadline, cancellation when the client
/// disconnects or the drain timeout passes, the <c>X-Queue-Depth</c> / <c>X-Queue-Limit</c> / <c>X-Retry-Safe</c>
/// headers, stage metrics, and the translation of the engine's input errors into 400s.
/// </summary>
internal sealed class ClassificationService(GuardState state, ClassificationQueue queue, ServiceMetrics metrics,
    LlamaGuardServiceOptions options, DrainCoordinator drain)
{
    public const string QueueDepthHeader = "X-Queue-Depth";
    public const string QueueLimitHeader = "X-Queue-Limit";
    public const string RetrySafeHeader = "X-Retry-Safe";

    /// <summary>The loaded classifier.</summary>
    /// <exception cref="ApiException">503 while loading or draining.</exception>
    public LoadedGuard RequireReady(HttpContext context)
    {
        MarkRetrySafe(context);
        if (state.IsDraining)
        {
            throw new ApiException(StatusCodes.Status503ServiceUnavailable, ApiErrorType.Server,
                "This replica is shutting down; retry on another one.", code: "draining") { RetryAfterSeconds = 1 };
        }
        return state.Loaded ?? throw new ApiException(StatusCodes.Status503ServiceUnavailable, ApiErrorType.Server,
            "The model is still loading; retry when /readyz answers 200.", code: "model_not_ready") { RetryAfterSeconds = 5 };
    }

    /// <summary>
    /// Waits for this request's turn and runs <paramref name="work"/> with a token that fires when the client goes
    /// away, the request deadline passes or the drain timeout ends.
    /// </summary>
    public async Task<T> RunAsync<T>(HttpContext context, LoadedGuard guard, string inputParam, string imageParam,
        Func<IContentGuard, CancellationToken, Task<T>> work)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(options.RequestTimeout));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, deadline.Token, drain.DrainExpired);
        ApiException? refusal = null;
        try
        {
            var (result, waited) = await queue.RunAsync(token => work(guard.Guard, token), linked.Token);
            metrics.Stage("queue", waited);
            return result;
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested && deadline.IsCancellationRequested)
        {
            throw new ApiException(StatusCodes.Status504GatewayTimeout, ApiErrorType.Server,
                $"The request did not finish within the deadline of {options.RequestTimeout.ToString(CultureInfo.InvariantCulture)} s (queueing included).",
                code: "timeout");
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested && drain.DrainExpired.IsCancellationRequested)
        {
            throw new ApiException(StatusCodes.Status503ServiceUnavailable, ApiErrorType.Server,
                "This replica shut down before the request's turn; retry on another one.", code: "draining") { RetryAfterSeconds = 1 };
        }
        catch (ApiException e) when (e.QueueDepth is not null)
        {
            refusal = e; // the depth and limit that made the queue full, not whatever they are a moment later
            throw;
        }
        catch (Exception e) when (ToBadRequest(e, inputParam, imageParam) is { } bad)
        {
            throw bad;
        }
        finally
        {
            context.Response.Headers[QueueDepthHeader] = (refusal?.QueueDepth ?? queue.Depth).ToString(CultureInfo.InvariantCulture);
            context.Response.Headers[QueueLimitHeader] = (refusal?.QueueLimit ?? queue.Limit).ToString(CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Classifies and records the verdict's stage times.</summary>
    public async Task<SafetyVerdict> ClassifyAsync(IContentGuard guard, Conversation conversation, SafetyPolicy policy, CancellationToken cancellationToken)
    {
        var verdict = await guard.ClassifyAsync(conversation, policy, cancellationToken);
        metrics.Verdict(verdict, conversation.HasImage);
        return verdict;
    }

    /// <summary>Sets the headers every classification answer carries, errors included: the work is side-effect free.</summary>
    public void MarkRetrySafe(HttpContext context)
    {
        context.Response.Headers[RetrySafeHeader] = "true";
        context.Response.Headers[QueueDepthHeader] = queue.Depth.ToString(CultureInfo.InvariantCulture);
        context.Response.Headers[QueueLimitHeader] = queue.Limit.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The engine's complaints about the input, as 400s (null for anything else).</summary>
    internal static ApiException? ToBadRequest(Exception e, string inputParam, string imageParam) => e switch
    {
        ConversationException c => ApiException.BadRequest(c.Message, inputParam,
            c.Problem is ConversationProblem.TooManyImages ? "too_many_images" : "invalid_conversation"),
        SafetyPolicyException p => ApiException.BadRequest(p.Message, "policy", "invalid_policy"),
        ModelInputException m => ApiException.BadRequest(m.Message, inputParam, "context_length_exceeded"),
        ImageDecodeException i => ApiException.BadRequest($"The image cannot be decoded: {i.Message}", imageParam, "invalid_image"),
        _ => null,
    };
}

/// <summary>
/// SIGTERM handling: readiness goes false at once (<see cref="GuardState.StartDraining"/>), queued and running work
/// goes on; when <see cref="LlamaGuardServiceOptions.DrainTimeout"/> has passed, <see cref="DrainExpired"/> fires and
/// whatever is still waiting or running is answered 503 (retry elsewhere) before the host closes its connections.
/// </summary>
internal sealed class DrainCoordinator : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _expired = new();
    private readonly GuardState _state;
    private readonly LlamaGuardServiceOptions _options;
    private readonly ILogger<DrainCoordinator> _logger;
    private readonly CancellationTokenRegistration _registration;

    public DrainCoordinator(GuardState state, LlamaGuardServiceOptions options, IHostApplicationLifetime lifetime, ClassificationQueue queue,
        ILogger<DrainCoordinator> logger)
    {
        _state = state;
        _options = options;
        _logger = logger;
        _registration = lifetime.ApplicationStopping.Register(() =>
        {
            _state.StartDraining();
            _logger.LogInformation("Draining: not ready; finishing {Depth} queued or running requests within {Seconds} s", queue.Depth, _options.DrainTimeout);
            _expired.CancelAfter(TimeSpan.FromSeconds(_options.DrainTimeout));
        });
    }

    public CancellationToken DrainExpired => _expired.Token;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _registration.Dispose();
        _expired.Dispose();
    }
}
