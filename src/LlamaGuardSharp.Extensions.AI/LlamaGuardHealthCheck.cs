using LlamaGuardSharp.Inference;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// Readiness of the guard registered by <c>AddLlamaGuard</c> (check name <see cref="Name"/>, tag <c>ready</c>):
/// in-process, Healthy once the model is loaded, Unhealthy while it loads or when loading failed; remote, Healthy
/// when the service's <c>GET /readyz</c> answers 2xx.
/// </summary>
internal sealed class LlamaGuardHealthCheck(IServiceProvider services) : IHealthCheck
{
    public const string Name = "llamaguard";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (services.GetService<GuardModelHost>() is { } host)
        {
            var model = host.Model;
            return model.Status switch
            {
                TaskStatus.RanToCompletion => HealthCheckResult.Healthy($"Llama Guard loaded from {model.Result.ModelDirectory}."),
                TaskStatus.Faulted => HealthCheckResult.Unhealthy("Loading Llama Guard failed.", model.Exception!.InnerException),
                TaskStatus.Canceled => HealthCheckResult.Unhealthy("Loading Llama Guard was cancelled (the host is stopping)."),
                _ => new HealthCheckResult(context.Registration.FailureStatus, "Llama Guard is loading."),
            };
        }
        var client = services.GetRequiredService<LlamaGuardClient>();
        return await client.IsReadyAsync(cancellationToken).ConfigureAwait(false)
            ? HealthCheckResult.Healthy("llamaguard serve is ready.")
            : new HealthCheckResult(context.Registration.FailureStatus, "llamaguard serve is not ready or not reachable.");
    }
}
