using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Prompting;

namespace LlamaGuardSharp.Server;

/// <summary>
/// Every setting of <c>llamaguard serve</c>: configuration section <c>LlamaGuard</c> (appsettings.json, environment
/// <c>LlamaGuard__MaxQueue=8</c>, command-line flags). Documented in docs/service.md.
/// </summary>
public sealed record LlamaGuardServiceOptions
{
    /// <summary>Configuration section name.</summary>
    public const string Section = "LlamaGuard";

    /// <summary>Model folder (or hub-cache folder) to load. Required unless a host supplies its own loader.</summary>
    public string? Model { get; init; }

    /// <summary>Name reported as <c>model</c> and shield id; default: the model folder's name.</summary>
    public string? ModelId { get; init; }

    /// <summary>Compute threads of the model (0 = every core; <see cref="GuardModelOptions.Threads"/>).</summary>
    public int Threads { get; init; }

    /// <summary>Prompt layout (<see cref="GuardModelOptions.Layout"/>; <c>--layout hf|meta</c>).</summary>
    public PromptLayout Layout { get; init; } = PromptLayout.HuggingFace;

    /// <summary>Cross-attention semantics (<see cref="GuardModelOptions.CrossAttentionMasking"/>; <c>--cross-attention hf|meta</c>).</summary>
    public CrossAttentionMasking CrossAttention { get; init; } = CrossAttentionMasking.HuggingFace;

    /// <summary>Arithmetic of the linear layers (<see cref="GuardModelOptions.Precision"/>; <c>--precision fp32|int8</c>).</summary>
    public ComputePrecision Precision { get; init; } = ComputePrecision.Fp32;

    /// <summary>With int8: the sidecar file or its folder (<see cref="GuardModelOptions.Int8SidecarPath"/>; default the model folder).</summary>
    public string? Int8Sidecar { get; init; }

    /// <summary>Requests allowed to wait behind the running classification; beyond it: 429.</summary>
    public int MaxQueue { get; init; } = 16;

    /// <summary>Deadline of one request from admission (queueing included), seconds; then 504.</summary>
    public double RequestTimeout { get; init; } = 600;

    /// <summary>On SIGTERM: how long queued and running work may take to finish, seconds.</summary>
    public double DrainTimeout { get; init; } = 120;

    /// <summary>Accepted bearer keys; empty: no authentication. Health, readiness and metrics are always open.</summary>
    public IReadOnlyList<string> ApiKeys { get; init; } = [];

    /// <summary>When set, a result is flagged when p(unsafe) ≥ this instead of following the model's verdict.</summary>
    public double? Threshold { get; init; }

    /// <summary>Report not ready (503 on /readyz) while the queue is full, so a balancer routes around this replica.</summary>
    public bool UnreadyWhenQueueFull { get; init; }

    /// <summary>Hosts whose http(s) image URLs may be fetched (exact names, or <c>*.example.com</c>); empty: data: URLs only.</summary>
    public IReadOnlyList<string> AllowedImageHosts { get; init; } = [];

    /// <summary>Allow image hosts that resolve to loopback, private, link-local or other non-public addresses (SSRF guard off).</summary>
    public bool AllowPrivateImageAddresses { get; init; }

    /// <summary>Largest image (decoded bytes of a data: URL, or a fetched body).</summary>
    public long MaxImageBytes { get; init; } = 20 * 1024 * 1024;

    /// <summary>Time limit of one image fetch, seconds.</summary>
    public double ImageFetchTimeout { get; init; } = 10;

    /// <summary>Largest request body in bytes (413 beyond it); room for a base64 image of <see cref="MaxImageBytes"/>.</summary>
    public long MaxRequestBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>Most strings in one <c>/v1/moderations</c> input array (each is one classification).</summary>
    public int MaxInputs { get; init; } = 32;

    /// <summary>Categories excluded from every classification unless a request gives its own policy (e.g. <c>["S6"]</c>).</summary>
    public IReadOnlyList<string> ExcludedCategories { get; init; } = [];

    /// <summary>Overrides of the S-code → OpenAI moderation keys table, e.g. <c>"S6": ["illicit"]</c>; an empty list unmaps a code.</summary>
    public IReadOnlyDictionary<string, string[]> ModerationCategories { get; init; } = new Dictionary<string, string[]>();

    /// <summary>Log request text and image URLs (off: moderated content is often the most sensitive data a team has).</summary>
    public bool LogContent { get; init; }

    /// <summary>Checks the values; the messages name the setting.</summary>
    /// <exception cref="ArgumentException">a value is out of range.</exception>
    public void Validate()
    {
        Require(Threads is >= 0 and <= GuardModelOptions.MaxThreads, $"Threads (--threads) must be 0..{GuardModelOptions.MaxThreads}.");
        Require(Enum.IsDefined(Layout), "Layout (--layout) must be HuggingFace or MetaNative.");
        Require(Enum.IsDefined(CrossAttention), "CrossAttention (--cross-attention) must be HuggingFace or Meta.");
        Require(MaxQueue >= 0, "MaxQueue (--max-queue) must be 0 or more.");
        Require(RequestTimeout > 0, "RequestTimeout (--request-timeout) must be more than 0 seconds.");
        Require(DrainTimeout >= 0, "DrainTimeout (--drain-timeout) must be 0 seconds or more.");
        Require(Threshold is null or (>= 0 and <= 1), "Threshold (--threshold) must be between 0 and 1.");
        Require(MaxImageBytes > 0, "MaxImageBytes must be positive.");
        Require(ImageFetchTimeout > 0, "ImageFetchTimeout must be positive.");
        Require(MaxRequestBytes > 0, "MaxRequestBytes must be positive.");
        Require(MaxInputs > 0, "MaxInputs must be positive.");
        Require(Enum.IsDefined(Precision), "Precision must be Fp32 or Int8.");
        Require(Int8Sidecar is null || Precision == ComputePrecision.Int8, "Int8Sidecar (--int8-sidecar) applies to Precision Int8 (--precision int8).");
        Require(ApiKeys.All(k => !string.IsNullOrWhiteSpace(k)), "ApiKeys (--api-key) must not contain an empty key.");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException(message);
        }
    }
}
