using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LlamaGuardSharp.Server;

/// <summary>
/// The moderation service (<c>llamaguard serve</c>): builds the ASP.NET Core host, registers the services
/// (<see cref="AddLlamaGuard"/>) and maps the routes (<see cref="MapLlamaGuard"/>). Routes, settings, metrics:
/// docs/service.md.
/// </summary>
public static class LlamaGuardServer
{
    /// <summary>Where the service listens when no <c>urls</c> setting says otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8000";

    /// <summary>
    /// A ready-to-run service: configuration from appsettings.json, environment (<c>LlamaGuard__…</c>), the command line
    /// <paramref name="args"/>, then <paramref name="settings"/> (highest precedence; <c>llamaguard serve</c>'s flags).
    /// </summary>
    /// <param name="configureServices">Runs after the service's registrations, e.g. to register an own
    /// <see cref="IContentGuardLoader"/> (an embedding host, the tests).</param>
    /// <exception cref="ArgumentException">a setting is invalid (the message names it).</exception>
    public static WebApplication Build(string[] args, IEnumerable<KeyValuePair<string, string?>>? settings = null,
        Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning); // one line per request comes from RequestPipeline
        // The console formatter stays selectable (Logging__Console__FormatterName=json); the simple one gets one line per
        // entry with scopes (the request id) and UTC times.
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.SimpleConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o =>
        {
            o.LogToStandardErrorThreshold = LogLevel.Trace;
            o.FormatterName ??= Microsoft.Extensions.Logging.Console.ConsoleFormatterNames.Simple; // unless configured
        });
        builder.AddLlamaGuard();
        configureServices?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapLlamaGuard();
        return app;
    }

    /// <summary>
    /// Runs the service until SIGTERM/Ctrl+C and the drain; 0 on a clean stop, 1 when the model failed to load (then
    /// one <c>error:</c> line goes to <paramref name="error"/> when given).
    /// </summary>
    public static async Task<int> RunAsync(WebApplication app, TextWriter? error = null)
    {
        var state = app.Services.GetRequiredService<GuardState>(); // RunAsync disposes the services when it ends
        await app.RunAsync();
        if (state.LoadFailure is { } failure)
        {
            error?.WriteLine("error: loading the model failed: " + failure.Message);
            return 1;
        }
        return 0;
    }

    /// <summary>Registers the service's settings (section <c>LlamaGuard</c>) and components.</summary>
    public static WebApplicationBuilder AddLlamaGuard(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Settings are read when first resolved, not here, so that hosts (and WebApplicationFactory) can add
        // configuration after this call; MapLlamaGuard resolves them before the server starts, so bad settings stop it.
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IConfiguration>().GetSection(LlamaGuardServiceOptions.Section).Get<LlamaGuardServiceOptions>()
                ?? new LlamaGuardServiceOptions();
            options.Validate();
            return options;
        });
        services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>()
            .Configure<LlamaGuardServiceOptions>((kestrel, options) => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes);
        // Kestrel waits for in-flight requests this long; the drain answers what is left just before (DrainCoordinator).
        services.AddOptions<HostOptions>()
            .Configure<LlamaGuardServiceOptions>((host, options) => host.ShutdownTimeout = TimeSpan.FromSeconds(options.DrainTimeout + 5));
        services.AddSingleton<GuardState>();
        services.AddSingleton<ClassificationQueue>();
        services.AddSingleton<ServiceMetrics>();
        services.AddSingleton<PrometheusExport>();
        services.AddSingleton<ImageSources>();
        services.AddSingleton<PolicySource>();
        services.AddSingleton(sp => new ModerationCategoryMap(sp.GetRequiredService<LlamaGuardServiceOptions>().ModerationCategories));
        services.AddSingleton<ClassificationService>();
        services.AddSingleton<DrainCoordinator>();
        services.AddHostedService(sp => sp.GetRequiredService<DrainCoordinator>());
        services.TryAddSingleton<IContentGuardLoader, GuardModelLoader>();
        services.AddHostedService<ModelLoadingService>();
        services.AddOpenApi(OpenApiShapes.AddRequestBodies);
        return builder;
    }

    /// <summary>Maps every route and the request pipeline (request ids, errors, authentication).</summary>
    public static WebApplication MapLlamaGuard(this WebApplication app)
    {
        // Fail fast on bad settings (ArgumentException, SafetyPolicyException) and listen to the meter from the first request on.
        app.Services.GetRequiredService<LlamaGuardServiceOptions>();
        app.Services.GetRequiredService<PolicySource>();
        app.Services.GetRequiredService<ModerationCategoryMap>();
        app.Services.GetRequiredService<PrometheusExport>();
        app.UseMiddleware<RequestPipeline>();
        app.UseStatusCodePages(async context =>
        {
            // Routing's own answers (405 wrong method, …) get the envelope too.
            var http = context.HttpContext;
            int status = http.Response.StatusCode;
            await new ApiException(status, ApiErrorType.InvalidRequest,
                status == StatusCodes.Status405MethodNotAllowed ? $"{http.Request.Method} is not allowed on {http.Request.Path}." : $"HTTP {status}.",
                code: status == StatusCodes.Status405MethodNotAllowed ? "method_not_allowed" : null).WriteAsync(http);
        });

        app.MapPost("/v1/moderations", ModerationsEndpoint.HandleAsync)
            .WithName("CreateModeration").WithTags("OpenAI")
            .WithSummary("Classify text and/or one image (OpenAI moderations).")
            .WithDescription("input: a string, an array of strings (one result each) or an array of text/image_url parts (one result). Results carry OpenAI's 13 categories plus llama_guard, the full verdict.")
            .WithMetadata(new RequestBodyShape(typeof(ModerationRequestShape)))
            .Produces<JsonObject>(200).WithErrors();
        app.MapGet("/v1/shields", SafetyEndpoints.ListShieldsAsync)
            .WithName("ListShields").WithTags("llama-stack").WithSummary("The loaded model as a llama-stack shield.")
            .Produces<JsonObject>(200);
        app.MapGet("/v1/shields/{identifier}", SafetyEndpoints.GetShieldAsync)
            .WithName("GetShield").WithTags("llama-stack").WithSummary("One shield by id.")
            .Produces<JsonObject>(200).WithErrors();
        app.MapPost("/v1/safety/run-shield", SafetyEndpoints.RunShieldAsync)
            .WithName("RunShield").WithTags("llama-stack")
            .WithSummary("Run the shield on chat messages (llama-stack safety API).")
            .WithDescription("Prompt or response classification from the last message's role. params.excluded_categories: codes to leave out.")
            .WithMetadata(new RequestBodyShape(typeof(RunShieldRequestShape)))
            .Produces<JsonObject>(200).WithErrors();
        app.MapPost("/v1/classify", ClassifyEndpoint.HandleAsync)
            .WithName("Classify").WithTags("Native")
            .WithSummary("Classify a conversation (native API): one verdict, or {prompt, response} for task 'both'.")
            .WithMetadata(new RequestBodyShape(typeof(ClassifyRequestShape)))
            .Produces<JsonObject>(200).WithErrors();
        app.MapGet("/healthz", () => Results.Text("ok"))
            .WithName("Health").WithTags("Operations").WithSummary("Alive (200 while the process serves HTTP).");
        app.MapGet("/readyz", (GuardState state, ClassificationQueue queue, LlamaGuardServiceOptions options) =>
            {
                string? reason = state.LoadFailure is not null ? "model failed to load"
                    : state.IsDraining ? "draining"
                    : state.Loaded is null ? "loading model"
                    : options.UnreadyWhenQueueFull && queue.IsFull ? "queue full" : null;
                return reason is null ? Results.Text("ready") : Results.Text(reason, statusCode: StatusCodes.Status503ServiceUnavailable);
            })
            .WithName("Ready").WithTags("Operations")
            .WithSummary("200 when the model is loaded and the replica takes work; 503 while loading, draining, or (with UnreadyWhenQueueFull) while the queue is full.");
        app.MapGet("/metrics", (HttpContext context, PrometheusExport export) => export.WriteAsync(context))
            .WithName("Metrics").WithTags("Operations").WithSummary("Prometheus text exposition of the service's metrics.");
        app.MapOpenApi();
        app.MapFallback(context => throw NoRoute(context));
        return app;
    }

    /// <summary>404, or 405 with <c>Allow</c> when the path exists with other methods.</summary>
    private static ApiException NoRoute(HttpContext context)
    {
        var allowed = context.RequestServices.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && !raw.Contains('*')
                && new TemplateMatcher(TemplateParser.Parse(raw), new RouteValueDictionary()).TryMatch(context.Request.Path, new RouteValueDictionary()))
            .SelectMany(e => e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])
            .Distinct().Order().ToArray();
        if (allowed.Length > 0)
        {
            context.Response.Headers.Allow = string.Join(", ", allowed);
            return new ApiException(StatusCodes.Status405MethodNotAllowed, ApiErrorType.InvalidRequest,
                $"{context.Request.Method} is not allowed on {context.Request.Path}; use {string.Join(" or ", allowed)}.", code: "method_not_allowed");
        }
        return new ApiException(StatusCodes.Status404NotFound, ApiErrorType.InvalidRequest,
            $"No route {context.Request.Method} {context.Request.Path}; see /openapi/v1.json.", code: "not_found");
    }

    private static RouteHandlerBuilder WithErrors(this RouteHandlerBuilder route) => route
        .Produces<ErrorEnvelopeShape>(400).Produces<ErrorEnvelopeShape>(401).Produces<ErrorEnvelopeShape>(413)
        .Produces<ErrorEnvelopeShape>(429).Produces<ErrorEnvelopeShape>(500).Produces<ErrorEnvelopeShape>(503).Produces<ErrorEnvelopeShape>(504);
}
