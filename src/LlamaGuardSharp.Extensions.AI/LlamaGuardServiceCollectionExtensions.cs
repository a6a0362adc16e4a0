using LlamaGuardSharp.Inference;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>Registers Llama Guard as the application's <see cref="IContentGuard"/>.</summary>
public static class LlamaGuardServiceCollectionExtensions
{
    /// <summary>
    /// Registers the guard configured by <paramref name="configuration"/> (e.g. <c>configuration.GetSection("LlamaGuard")</c>,
    /// bound to <see cref="LlamaGuardOptions"/>): <c>ModelPath</c> loads the model in-process once at start,
    /// <c>Endpoint</c> uses a remote <c>llamaguard serve</c>. Options are validated when the host starts; readiness is
    /// the health check <c>llamaguard</c> (tag <c>ready</c>).
    /// </summary>
    public static IServiceCollection AddLlamaGuard(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<LlamaGuardOptions>().Bind(configuration);
        return AddCore(services, configuration[nameof(LlamaGuardOptions.ModelPath)] is { Length: > 0 });
    }

    /// <summary>Registers the guard configured by <paramref name="configure"/>; see the <see cref="IConfiguration"/> overload.</summary>
    public static IServiceCollection AddLlamaGuard(this IServiceCollection services, Action<LlamaGuardOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        var probe = new LlamaGuardOptions();
        configure(probe);
        services.AddOptions<LlamaGuardOptions>().Configure(configure);
        return AddCore(services, !string.IsNullOrWhiteSpace(probe.ModelPath));
    }

    /// <summary>
    /// Registers the one kind of guard the options name: in-process (<c>ModelPath</c> set) or remote (otherwise). The
    /// choice is read once from the options as configured here; the validator, run at start, reports a misconfiguration
    /// (both or neither set) with its own message.
    /// </summary>
    private static IServiceCollection AddCore(IServiceCollection services, bool inProcess)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LlamaGuardOptions>, LlamaGuardOptionsValidator>());
        services.AddOptions<LlamaGuardOptions>().ValidateOnStart();
        services.AddLogging();
        if (inProcess)
        {
            services.TryAddSingleton<GuardModelHost>();
            services.AddHostedService(sp => sp.GetRequiredService<GuardModelHost>());
            services.TryAddSingleton<IContentGuard>(sp => new HostedGuardModel(sp.GetRequiredService<GuardModelHost>()));
        }
        else
        {
            services.AddHttpClient<LlamaGuardClient>((sp, http) =>
            {
                var options = sp.GetRequiredService<IOptions<LlamaGuardOptions>>().Value;
                var endpoint = options.Endpoint ?? throw new InvalidOperationException("LlamaGuard:Endpoint is not set.");
                http.BaseAddress = endpoint.AbsoluteUri.EndsWith('/') ? endpoint : new Uri(endpoint.AbsoluteUri + "/");
                http.Timeout = Timeout.InfiniteTimeSpan; // the resilience handler's timeouts govern
                if (!string.IsNullOrEmpty(options.ApiKey))
                {
                    http.DefaultRequestHeaders.Authorization = new("Bearer", options.ApiKey);
                }
            })
            .AddStandardResilienceHandler()
            .Configure((HttpStandardResilienceOptions resilience, IServiceProvider sp) =>
            {
                var options = sp.GetRequiredService<IOptions<LlamaGuardOptions>>().Value;
                resilience.AttemptTimeout.Timeout = options.Timeout;
                resilience.Retry.MaxRetryAttempts = Math.Max(options.MaxRetries, 1);
                resilience.Retry.ShouldHandle = options.MaxRetries == 0 ? _ => ValueTask.FromResult(false) : resilience.Retry.ShouldHandle;
                // Every attempt may use its whole timeout, plus the retries' back-off (capped by Retry-After handling).
                resilience.TotalRequestTimeout.Timeout = options.Timeout * (options.MaxRetries + 1) + TimeSpan.FromSeconds(30 * options.MaxRetries + 1);
                resilience.CircuitBreaker.SamplingDuration = options.Timeout * 2;
            });
            services.TryAddTransient<IContentGuard>(sp => sp.GetRequiredService<LlamaGuardClient>());
        }
        services.AddHealthChecks().AddCheck<LlamaGuardHealthCheck>(LlamaGuardHealthCheck.Name, tags: ["ready"]);
        return services;
    }
}
