using System.CommandLine;
using System.Text.Json;
using LlamaGuardSharp.Diagnostics;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard doctor --model DIR|REPO_ID [--revision REV] [--download-if-missing] [--precision fp32|int8] [--int8-sidecar PATH] [--classify] [--threads N] [--json]</c>: checks a model
/// folder and this machine without running the model (<see cref="ModelDoctor"/>) and prints each finding with what to
/// fix; <c>--classify</c> then runs one short text-only prompt and prints the verdict and its timings. Exit code 1 when
/// anything is a problem (warnings alone exit 0).
/// </summary>
public static class DoctorCommand
{
    /// <summary>The prompt <c>--classify</c> runs: short, text-only, harmless.</summary>
    public const string ProbePrompt = "How do I bake a loaf of sourdough bread?";

    public static Command Create()
    {
        var model = new ModelSourceOptions(required: true);
        var classify = new Option<bool>("--classify") { Description = $"Also load the model and classify one short text-only prompt (\"{ProbePrompt}\"); prints the verdict and timings." };
        var threads = new Option<int>("--threads") { Description = "Compute threads for --classify (0 = all cores).", DefaultValueFactory = _ => 0, HelpName = "N" }
            .InRange(0, GuardModelOptions.MaxThreads);
        var json = new Option<bool>("--json") { Description = "Print the findings (and the --classify verdict) as one JSON object." };
        var command = new Command("doctor", "Check a model folder (files, headers, tensor inventory, verdict-token ids) and this machine (memory, CPU features); print what to fix.");
        model.AddTo(command);
        command.Options.Add(classify);
        command.Options.Add(threads);
        command.Options.Add(json);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                string folder = (await model.ResolveAsync(parseResult, error, cancellationToken))!;
                var diagnosis = ModelDoctor.Examine(folder);
                SafetyVerdict? verdict = null;
                TimeSpan load = TimeSpan.Zero;
                string? classifyError = null;
                if (parseResult.GetValue(classify))
                {
                    if (diagnosis.IsHealthy)
                    {
                        error.WriteLine("doctor: loading the model for --classify…");
                        try
                        {
                            using var guard = await GuardModel.LoadAsync(diagnosis.Folder,
                                model.ApplyPrecision(parseResult, new GuardModelOptions { Threads = parseResult.GetValue(threads) }), null, cancellationToken);
                            load = guard.LoadTime;
                            verdict = await guard.ClassifyAsync(Conversation.ForPrompt(ProbePrompt), null, cancellationToken);
                        }
                        catch (Exception e) when (CliErrors.IsUserError(e) || e is InvalidOperationException)
                        {
                            classifyError = e.Message;
                        }
                    }
                    else
                    {
                        classifyError = "skipped: fix the problems above first";
                    }
                }
                bool ok = diagnosis.IsHealthy && (classifyError is null || !parseResult.GetValue(classify));
                output.WriteLine(parseResult.GetValue(json) ? Json(diagnosis, verdict, load, classifyError, ok) : Human(diagnosis, verdict, load, classifyError, ok));
                return ok ? 0 : 1;
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(error, e);
            }
        });
        return command;
    }

    private static string Human(ModelDiagnosis diagnosis, SafetyVerdict? verdict, TimeSpan load, string? classifyError, bool ok)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"model: {diagnosis.Folder}");
        foreach (var check in diagnosis.Checks)
        {
            text.AppendLine($"  {Status(check.Status),-8} {check.Name,-18} {check.Detail}");
            if (check.Fix is not null && check.Status != ModelCheckStatus.Ok)
            {
                text.AppendLine($"  {"",-8} {"",-18} fix: {check.Fix}");
            }
        }
        if (verdict is not null)
        {
            var t = verdict.Timings;
            text.AppendLine($"  {"ok",-8} {"classify",-18} \"{ProbePrompt}\" → {ClassifyCommand.HumanLine(verdict)}; load {load.TotalSeconds:F1} s, "
                + $"prefill {t.Prefill.TotalSeconds:F2} s, decode {t.Decode.TotalSeconds:F2} s, total {t.Total.TotalSeconds:F2} s ({verdict.PromptTokenCount} prompt tokens)");
        }
        else if (classifyError is not null)
        {
            text.AppendLine($"  {"problem",-8} {"classify",-18} {classifyError}");
        }
        int problems = diagnosis.Checks.Count(c => c.Status == ModelCheckStatus.Problem) + (verdict is null && classifyError is not null ? 1 : 0);
        int warnings = diagnosis.Checks.Count(c => c.Status == ModelCheckStatus.Warning);
        text.Append(ok ? $"healthy ({warnings} warning(s))" : $"{problems} problem(s), {warnings} warning(s)");
        return text.ToString();
    }

    private static string Status(ModelCheckStatus status) => status switch
    {
        ModelCheckStatus.Ok => "ok",
        ModelCheckStatus.Warning => "warning",
        _ => "problem",
    };

    private static string Json(ModelDiagnosis diagnosis, SafetyVerdict? verdict, TimeSpan load, string? classifyError, bool ok) => JsonSerializer.Serialize(new
    {
        model = diagnosis.Folder,
        ok,
        checks = diagnosis.Checks.Select(c => new { name = c.Name, status = Status(c.Status), detail = c.Detail, fix = c.Fix }),
        tensors = diagnosis.TensorCount,
        mapped_bytes = diagnosis.MappedBytes,
        available_memory_bytes = diagnosis.AvailableMemoryBytes,
        tokens = diagnosis.Tokens is { } tokens
            ? new { safe = tokens.Safe, @unsafe = tokens.Unsafe, double_newline = tokens.DoubleNewline, stop = tokens.Stop.Keys }
            : null,
        cpu = diagnosis.CpuFeatures,
        classify = verdict is null && classifyError is null ? null : new
        {
            prompt = ProbePrompt,
            load_seconds = Math.Round(load.TotalSeconds, 3),
            verdict = verdict is null ? (JsonElement?)null : JsonDocument.Parse(VerdictJson.Serialize(verdict)).RootElement.Clone(),
            error = classifyError,
        },
    });
}
