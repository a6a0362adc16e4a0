namespace LlamaGuardSharp.Hub;

/// <summary>How <see cref="HubClient"/> retries and waits.</summary>
public sealed record HubClientOptions
{
    /// <summary>The defaults: 5 retries, 1 s doubling up to 30 s, a <c>Retry-After</c> honoured up to 5 minutes.</summary>
    public static HubClientOptions Default { get; } = new();

    /// <summary>Retries of one request after a 429, a 5xx, or a failed or dropped connection (0 = none).</summary>
    public int MaxRetries { get; init; } = 5;

    /// <summary>The first backoff delay when the answer has no <c>Retry-After</c>; it doubles per retry (with ±20 % jitter).</summary>
    public TimeSpan InitialRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest backoff delay of the doubling.</summary>
    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest <c>Retry-After</c> that is waited out; a longer one fails at once, naming it.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Time allowed for an answer's headers (metadata calls and the start of each download).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed without a single byte arriving during a download before the connection counts as dropped.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Sent as <c>User-Agent</c>.</summary>
    public string UserAgent { get; init; } = "LlamaGuardSharp/" + (typeof(HubClientOptions).Assembly.GetName().Version?.ToString(3) ?? "0");
}
