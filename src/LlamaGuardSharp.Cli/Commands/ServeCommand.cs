using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using LlamaGuardSharp.Hub;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Server;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard serve --model DIR|REPO_ID [--revision REV] [--download-if-missing] [--urls URL] [--max-queue N] [--request-timeout S] [--drain-timeout S]
/// [--api-key KEY]... [--threshold X] [--unready-when-queue-full] [--allowed-image-hosts H,...]</c>: the moderation service
/// (OpenAI moderations, llama-stack safety, native API; docs/service.md). Every flag is also a setting of section
/// <c>LlamaGuard</c> in appsettings.json or the environment (<c>LlamaGuard__MaxQueue=8</c>); flags win.
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var model = new ModelSourceOptions(required: false,
            "Model folder, hub-cache folder, or Hub repository id found in the Hugging Face cache (e.g. meta-llama/Llama-Guard-3-11B-Vision). Setting LlamaGuard:Model.");
        var urls = new Option<string?>("--urls") { Description = $"Where to listen, ';'-separated (default {LlamaGuardServer.DefaultUrl}).", HelpName = "URLS" };
        var maxQueue = new Option<int?>("--max-queue") { Description = "Requests that may wait behind the running classification; beyond: 429 with Retry-After (default 16).", HelpName = "N" };
        var requestTimeout = new Option<double?>("--request-timeout") { Description = "Deadline of one request, queueing included, in seconds; then 504 (default 600).", HelpName = "SECONDS" };
        var drainTimeout = new Option<double?>("--drain-timeout") { Description = "On SIGTERM: time for queued and running work to finish, in seconds (default 120).", HelpName = "SECONDS" };
        var apiKeys = new Option<string[]>("--api-key") { Description = "Accepted bearer key (repeat for several); without any, no authentication.", HelpName = "KEY" };
        var threshold = new Option<double?>("--threshold") { Description = "Flag when p(unsafe) ≥ X instead of following the model's verdict.", HelpName = "X" };
        var unready = new Option<bool>("--unready-when-queue-full") { Description = "Answer 503 on /readyz while the queue is full, so a balancer routes around this replica." };
        var imageHosts = new Option<string[]>("--allowed-image-hosts") { Description = "Hosts whose http(s) image URLs may be fetched (comma-separated; *.example.com for subdomains). Default: data: URLs only.", HelpName = "H,..." };
        var allowPrivate = new Option<bool>("--allow-private-image-addresses") { Description = "Let allowed image hosts resolve to loopback/private addresses (off: SSRF guard)." };
        var threads = new Option<int?>("--threads") { Description = "Compute threads (0 = all cores).", HelpName = "N" }.InRange(0, GuardModelOptions.MaxThreads);
        var layout = ConversationOptions.CreateLayoutOption();
        var crossAttention = ConversationOptions.CreateCrossAttentionOption();
        var modelId = new Option<string?>("--model-id") { Description = "Name reported as the model and shield id (default: the model folder's name).", HelpName = "NAME" };
        var logContent = new Option<bool>("--log-content") { Description = "Log request text and image URLs (off by default: moderated content is sensitive)." };

        var command = new Command("serve", "Run the moderation service: OpenAI /v1/moderations, llama-stack /v1/safety/run-shield, native /v1/classify.")
        {
            urls, maxQueue, requestTimeout, drainTimeout, apiKeys, threshold, unready, imageHosts, allowPrivate, threads, layout, crossAttention, modelId, logContent,
        };
        model.AddTo(command);
        // A synchronous action on purpose: the host handles SIGTERM/Ctrl+C itself (drain, then exit 0); an asynchronous
        // System.CommandLine action would install its own termination handler and end the process before the drain.
        command.SetAction(parseResult =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var settings = new Dictionary<string, string?>();
                void Set<T>(string key, T? value) where T : struct
                {
                    if (value is { } v)
                    {
                        settings[$"{LlamaGuardServiceOptions.Section}:{key}"] = Convert.ToString(v, CultureInfo.InvariantCulture);
                    }
                }
                if (model.ResolveAsync(parseResult, error, CancellationToken.None).GetAwaiter().GetResult() is { } folder)
                {
                    settings[$"{LlamaGuardServiceOptions.Section}:Model"] = folder;
                }
                if (parseResult.GetValue(urls) is { } listen)
                {
                    settings["urls"] = listen;
                }
                if (parseResult.GetValue(modelId) is { } id)
                {
                    settings[$"{LlamaGuardServiceOptions.Section}:ModelId"] = id;
                }
                Set("MaxQueue", parseResult.GetValue(maxQueue));
                Set("RequestTimeout", parseResult.GetValue(requestTimeout));
                Set("DrainTimeout", parseResult.GetValue(drainTimeout));
                Set("Threshold", parseResult.GetValue(threshold));
                Set("Threads", parseResult.GetValue(threads));
                if (parseResult.GetResult(model.Precision) is { Implicit: false })
                {
                    settings[$"{LlamaGuardServiceOptions.Section}:Precision"] = parseResult.GetValue(model.Precision) == "int8" ? "Int8" : "Fp32";
                }
                if (parseResult.GetResult(layout) is { Implicit: false })
                {
                    settings[$"{LlamaGuardServiceOptions.Section}:Layout"] = ConversationOptions.ParseLayout(parseResult.GetValue(layout)).ToString();
                }
                if (parseResult.GetResult(crossAttention) is { Implicit: false })
                {
                    settings[$"{LlamaGuardServiceOptions.Section}:CrossAttention"] = ConversationOptions.ParseCrossAttention(parseResult.GetValue(crossAttention)).ToString();
                }
                if (parseResult.GetValue(model.Int8Sidecar) is { } sidecar)
                {
                    settings[$"{LlamaGuardServiceOptions.Section}:Int8Sidecar"] = sidecar;
                }
                if (parseResult.GetValue(unready)) Set("UnreadyWhenQueueFull", (bool?)true);
                if (parseResult.GetValue(allowPrivate)) Set("AllowPrivateImageAddresses", (bool?)true);
                if (parseResult.GetValue(logContent)) Set("LogContent", (bool?)true);
                AddList(settings, "ApiKeys", parseResult.GetValue(apiKeys));
                AddList(settings, "AllowedImageHosts", parseResult.GetValue(imageHosts)?.SelectMany(h => h.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray());

                var app = LlamaGuardServer.Build([], settings);
                var options = app.Services.GetRequiredService<LlamaGuardServiceOptions>();
                if (options.Model is null)
                {
                    throw new ArgumentException("No model: give --model DIR (or set LlamaGuard:Model in appsettings.json / LlamaGuard__Model in the environment).");
                }
                string resolved = ModelLocator.Resolve(options.Model); // a repo id from appsettings/environment too
                if (!Directory.Exists(resolved))
                {
                    throw new ArgumentException($"The model folder {resolved} does not exist.");
                }
                return LlamaGuardServer.RunAsync(app, error).GetAwaiter().GetResult();
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(error, e);
            }
        });
        return command;
    }

    private static void AddList(Dictionary<string, string?> settings, string key, string[]? values)
    {
        for (int i = 0; i < (values?.Length ?? 0); i++)
        {
            settings[$"{LlamaGuardServiceOptions.Section}:{key}:{i}"] = values![i];
        }
    }
}
