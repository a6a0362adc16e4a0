using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard quantize --model DIR|REPO_ID [--out DIR] [--threads N] [--json]</c>: writes the int8 sidecar
/// (<c>llamaguard-int8.safetensors</c>, docs/int8.md) of a checkpoint, which <c>--precision int8</c> loads instead of the
/// checkpoint's linear-layer weights. Progress on stderr; with <c>--json</c> a summary on stdout.
/// </summary>
public static class QuantizeCommand
{
    public static Command Create()
    {
        var model = new ModelSourceOptions(required: true);
        var outOption = new Option<string?>("--out")
        {
            Description = $"Folder to write {Int8Sidecar.FileName} to (created; default: the model folder). Load it with --precision int8 --int8-sidecar DIR.",
            HelpName = "DIR",
        };
        var threads = new Option<int>("--threads") { Description = "Quantization threads (0 = every core).", DefaultValueFactory = _ => 0, HelpName = "N" }
            .InRange(0, GuardModelOptions.MaxThreads);
        var json = new Option<bool>("--json") { Description = "Print a JSON summary (file, bytes, weights, seconds) on stdout." };
        var command = new Command("quantize", "Write the int8 sidecar of a checkpoint (per-output-channel int8 linear layers) for --precision int8.")
        {
            outOption, threads, json,
        };
        model.AddTo(command, precision: false);
        command.SetAction(async (parseResult, ct) =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            TextWriter error = parseResult.InvocationConfiguration.Error;
            try
            {
                string folder = (await model.ResolveAsync(parseResult, error, ct))!;
                int threadCount = parseResult.GetValue(threads);
                using var checkpoint = MllamaCheckpoint.Open(folder);
                string outDir = parseResult.GetValue(outOption) ?? checkpoint.Directory;
                Directory.CreateDirectory(outDir);
                string path = Path.Combine(outDir, Int8Sidecar.FileName);
                int weights = Int8Sidecar.QuantizedWeights(checkpoint.Config).Count;
                error.WriteLine($"quantize: {weights} linear weights of {checkpoint.Directory} → {path}");
                var stopwatch = Stopwatch.StartNew();
                int lastTenth = -1;
                var progress = new LineProgress<double>(f =>
                {
                    int tenth = (int)(f * 10);
                    if (tenth != lastTenth)
                    {
                        lastTenth = tenth;
                        error.WriteLine($"quantize: {f:P0} ({stopwatch.Elapsed.TotalSeconds:F0} s)");
                    }
                });
                await Task.Run(() => Int8Sidecar.Write(checkpoint, path, threadCount == 0 ? Environment.ProcessorCount : threadCount, progress, ct), ct);
                long bytes = new FileInfo(path).Length;
                // Open it as loading would: the written file passes the same validation.
                using (Int8Sidecar.Open(path, checkpoint))
                {
                }
                double seconds = stopwatch.Elapsed.TotalSeconds;
                error.WriteLine($"quantize: wrote {bytes / 1e9:F2} GB in {seconds:F1} s; load it with --precision int8"
                    + (Path.GetFullPath(outDir) == Path.GetFullPath(checkpoint.Directory) ? "" : $" --int8-sidecar {outDir}"));
                if (parseResult.GetValue(json))
                {
                    output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["file"] = Path.GetFullPath(path),
                        ["bytes"] = bytes,
                        ["weights"] = weights,
                        ["seconds"] = Math.Round(seconds, 2),
                        ["layout_version"] = Compute.Int8Weights.LayoutVersion.ToString(CultureInfo.InvariantCulture),
                    }));
                }
                return 0;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                error.WriteLine("quantize: cancelled; no sidecar was written.");
                return 130;
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(error, e);
            }
        });
        return command;
    }
}
