namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// Where <c>services.AddLlamaGuard(...)</c> gets its <see cref="Inference.IContentGuard"/>: set exactly one of
/// <see cref="ModelPath"/> (the model in-process, loaded once at start) and <see cref="Endpoint"/> (a remote
/// <c>llamaguard serve</c>). Bound from configuration (e.g. the <c>LlamaGuard</c> section) and validated at start.
/// </summary>
public sealed class LlamaGuardOptions
{
    /// <summary>A Llama Guard 3 Vision model folder (Hugging Face layout) to load in-process.</summary>
    public string? ModelPath { get; set; }

    /// <summary>In-process: compute threads (0 = all cores).</summary>
    public int Threads { get; set; }

    /// <summary>In-process: the arithmetic of the linear layers (<see cref="Inference.GuardModelOptions.Precision"/>; default Fp32).</summary>
    public Inference.ComputePrecision Precision { get; set; } = Inference.ComputePrecision.Fp32;

    /// <summary>In-process with Int8: the int8 sidecar file or its folder (default: the model folder; docs/int8.md).</summary>
    public string? Int8SidecarPath { get; set; }

    /// <summary>The root of a remote <c>llamaguard serve</c>, e.g. <c>http://guard:8000/</c>.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Remote: the API key sent as <c>Authorization: Bearer</c> (when the service has <c>--api-key</c>).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Remote: the longest one attempt may take (a CPU classification of the real model takes tens of seconds). Default 5 minutes.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Remote: retries after a transient failure (429 with its Retry-After, 5xx, connection failure, timeout). Default 2.</summary>
    public int MaxRetries { get; set; } = 2;
}
