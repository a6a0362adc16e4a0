using System.CommandLine;
using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using LlamaGuardSharp.Checkpoints;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard synth --preset llama-guard-3-11b-vision|tiny --out DIR [--seed N] [--vision-layers N] [--global-layers N]
/// [--text-layers N] [--json]</c>: writes a random-weight Mllama checkpoint in the exact Hugging Face layout (config,
/// bf16 shards + index, preprocessor/generation configs, tokenizer files) for load and speed tests without the real weights.
/// </summary>
public static class SynthCommand
{
    private static readonly string[] Presets = ["llama-guard-3-11b-vision", "tiny"];

    public static Command Create()
    {
        var presetOption = new Option<string>("--preset")
        {
            Description = "llama-guard-3-11b-vision (real config and shapes, 21.3 GB in 5 shards) or tiny (golden tiny_56-like, ~17 MB).",
            Required = true,
        };
        presetOption.AcceptOnlyFromAmong(Presets);
        var outOption = new Option<string>("--out") { Description = "Output model folder (created; model files in it are replaced).", Required = true };
        var seedOption = new Option<ulong>("--seed") { Description = "Weight seed (same seed, same bytes).", DefaultValueFactory = _ => 0 };
        // Depths up to the real model's (32 local + 8 global vision, 40 text layers): a deeper synthetic model is no
        // model anyone runs, and its size on disk grows with every layer.
        var visionLayersOption = new Option<int?>("--vision-layers") { Description = "Local vision layers (intermediate taps are rescaled)." }.InRange(5, 32);
        var globalLayersOption = new Option<int?>("--global-layers") { Description = "Global (gated) vision layers." }.InRange(0, 8);
        var textLayersOption = new Option<int?>("--text-layers") { Description = "Text layers (cross-attention at 3, 8, 13, … below the depth)." }.InRange(1, 40);
        var maxShardOption = new Option<long?>("--max-shard-bytes") { Description = "Shard size limit in bytes (default 5e9, as transformers)." }
            .InRange(1L << 20, 1_000_000_000_000);
        var jsonOption = new Option<bool>("--json") { Description = "Print a JSON summary (files, bytes, seconds) on stdout." };
        var command = new Command("synth", "Write a random-weight Mllama checkpoint in the Hugging Face layout.")
        {
            presetOption, outOption, seedOption, visionLayersOption, globalLayersOption, textLayersOption, maxShardOption, jsonOption,
        };
        command.SetAction(async (parseResult, ct) =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            TextWriter error = parseResult.InvocationConfiguration.Error;
            string preset = parseResult.GetValue(presetOption)!;
            string outDir = parseResult.GetValue(outOption)!;
            bool real = preset == Presets[0];
            MllamaConfig config;
            try
            {
                config = MllamaPresets.WithDepth(real ? MllamaPresets.LlamaGuard3_11BVision() : MllamaPresets.Tiny(),
                    parseResult.GetValue(visionLayersOption), parseResult.GetValue(globalLayersOption), parseResult.GetValue(textLayersOption));
            }
            catch (ArgumentOutOfRangeException e)
            {
                return CliErrors.Report(error, e.Message);
            }
            var options = new SyntheticCheckpointOptions(
                Seed: parseResult.GetValue(seedOption),
                MaxShardBytes: parseResult.GetValue(maxShardOption) ?? 5_000_000_000,
                InstructGenerationConfig: real,
                TransformersVersion: real ? MllamaConfigJson.RealTransformersVersion : "4.45.2");
            var stopwatch = Stopwatch.StartNew();
            SyntheticCheckpointResult result;
            List<WrittenFile> files;
            try
            {
                (result, files) = await WriteModelFolderAsync(config, outDir, options, error, ct);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException && e is not StandardOutputClosedException)
            {
                return CliErrors.Report(error, $"cannot write {outDir}: {e.Message}");
            }
            double seconds = stopwatch.Elapsed.TotalSeconds;
            long bytes = files.Sum(f => f.Bytes);
            error.WriteLine($"synth: wrote {files.Count} files, {bytes / 1e9:F2} GB, {result.ParameterCount:N0} parameters in {seconds:F1} s ({bytes / 1e6 / seconds:F0} MB/s) to {result.Directory}");
            if (parseResult.GetValue(jsonOption))
            {
                var summary = new
                {
                    directory = result.Directory,
                    preset,
                    seed = options.Seed,
                    tensors = result.TensorCount,
                    parameters = result.ParameterCount,
                    bytes,
                    seconds = Math.Round(seconds, 3),
                    files = files.Select(f => new { name = f.Name, bytes = f.Bytes }),
                };
                output.WriteLine(JsonSerializer.Serialize(summary));
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Writes a complete synthetic model folder: the checkpoint (progress on <paramref name="error"/>) plus the embedded
    /// tokenizer files. Also used by <c>bench</c> to make its checkpoint.
    /// </summary>
    internal static async Task<(SyntheticCheckpointResult Result, List<WrittenFile> Files)> WriteModelFolderAsync(MllamaConfig config, string outDir,
        SyntheticCheckpointOptions options, TextWriter error, CancellationToken ct)
    {
        var progress = new LineProgress<SyntheticCheckpointProgress>(p =>
            error.WriteLine($"synth: {p.CurrentFile} {p.BytesWritten / 1e6:F0}/{p.TotalBytes / 1e6:F0} MB ({p.MegabytesPerSecond:F0} MB/s)"));
        var result = await SyntheticCheckpointWriter.WriteAsync(config, outDir, options, progress, ct);
        var files = result.Files.ToList();
        files.Add(WriteResource("tokenizer.json", outDir));
        files.Add(WriteResource("tokenizer_config.json", outDir));
        return (result, files);
    }

    /// <summary>Writes an embedded gzip resource uncompressed.</summary>
    private static WrittenFile WriteResource(string name, string directory)
    {
        using var compressed = typeof(SynthCommand).Assembly.GetManifestResourceStream($"LlamaGuardSharp.Cli.{name}.gz")
            ?? throw new InvalidOperationException($"embedded resource {name}.gz is missing from the build");
        using var gzip = new GZipStream(compressed, CompressionMode.Decompress);
        string path = Path.Combine(directory, name);
        using (var file = File.Create(path))
        {
            gzip.CopyTo(file);
        }
        return new WrittenFile(name, new FileInfo(path).Length);
    }
}
