using Microsoft.Extensions.Options;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>Checks <see cref="LlamaGuardOptions"/> at start, each failure naming the setting and what is wrong.</summary>
internal sealed class LlamaGuardOptionsValidator : IValidateOptions<LlamaGuardOptions>
{
    public ValidateOptionsResult Validate(string? name, LlamaGuardOptions options)
    {
        var failures = new List<string>();
        bool local = !string.IsNullOrWhiteSpace(options.ModelPath);
        bool remote = options.Endpoint is not null;
        if (local == remote)
        {
            failures.Add(local
                ? "LlamaGuard: set either ModelPath (the model in-process) or Endpoint (a llamaguard serve), not both."
                : "LlamaGuard: set ModelPath (a model folder, the model in-process) or Endpoint (a llamaguard serve URL).");
        }
        if (local && !Directory.Exists(options.ModelPath))
        {
            failures.Add($"LlamaGuard:ModelPath '{options.ModelPath}' is not a folder.");
        }
        if (!Enum.IsDefined(options.Precision))
        {
            failures.Add($"LlamaGuard:Precision must be Fp32 or Int8, not {options.Precision}.");
        }
        if (options.Int8SidecarPath is not null && options.Precision != Inference.ComputePrecision.Int8)
        {
            failures.Add("LlamaGuard:Int8SidecarPath applies to Precision Int8.");
        }
        if (options.Threads < 0)
        {
            failures.Add($"LlamaGuard:Threads must be 0 (all cores) or positive, not {options.Threads}.");
        }
        if (remote && (!options.Endpoint!.IsAbsoluteUri || (options.Endpoint.Scheme != Uri.UriSchemeHttp && options.Endpoint.Scheme != Uri.UriSchemeHttps)))
        {
            failures.Add($"LlamaGuard:Endpoint '{options.Endpoint}' must be an absolute http or https URL.");
        }
        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromHours(1))
        {
            failures.Add($"LlamaGuard:Timeout must be between 0 and 1 hour, not {options.Timeout}.");
        }
        if (options.MaxRetries is < 0 or > 10)
        {
            failures.Add($"LlamaGuard:MaxRetries must be 0–10, not {options.MaxRetries}.");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
