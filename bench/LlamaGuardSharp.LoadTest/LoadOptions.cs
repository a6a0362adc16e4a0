namespace LlamaGuardSharp.LoadTest;

/// <summary>What kind of request each client sends.</summary>
public enum RequestKind
{
    Text,
    Image,
    Mixed,
}

/// <summary>One load run's settings (the command line, validated).</summary>
public sealed record LoadOptions(
    Uri BaseUrl,
    int Concurrency,
    int? Requests,
    TimeSpan? Duration,
    RequestKind Kind,
    string? ApiKey,
    int MaxRetries,
    bool AllowErrors,
    int? QueueLimit,
    TimeSpan Timeout,
    bool DistinctImages);
