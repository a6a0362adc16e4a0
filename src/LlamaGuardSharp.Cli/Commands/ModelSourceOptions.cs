using System.CommandLine;
using LlamaGuardSharp.Hub;
using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// The options every command that loads a model shares: <c>--model DIR|REPO_ID</c>, <c>--revision REV</c> and
/// <c>--download-if-missing</c>. A value that is an existing path is used as it is; one shaped like <c>org/name</c> is
/// looked up in the Hugging Face cache (<see cref="ModelLocator"/>) and, only with <c>--download-if-missing</c>,
/// downloaded into it (progress on stderr). Commands add them with <see cref="AddTo"/> and call
/// <see cref="ResolveAsync"/> before loading.
/// </summary>
public sealed class ModelSourceOptions
{
    /// <summary>The options; <paramref name="required"/> makes <c>--model</c> mandatory.</summary>
    public ModelSourceOptions(bool required, string? modelDescription = null)
    {
        Model = new Option<string>("--model")
        {
            Description = modelDescription
                ?? "Model folder (config.json, safetensors shards, tokenizer.json), a hub-cache folder models--org--name, or a Hub repository id "
                + $"such as {ModelLocator.DefaultRepoId} found in the Hugging Face cache (HF_HUB_CACHE / HF_HOME; `llamaguard download` fills it).",
            HelpName = "DIR|REPO_ID",
            Required = required,
        };
        Revision = new Option<string?>("--revision")
        {
            Description = "With a repository id: the branch, tag or commit sha whose cached snapshot to load (default main).",
            HelpName = "REV",
        };
        DownloadIfMissing = new Option<bool>("--download-if-missing")
        {
            Description = "With a repository id that is not cached: download its runtime files first (HF_TOKEN for gated models). Without it, no network call is ever made.",
        };
    }

    /// <summary><c>--precision fp32|int8</c>: the arithmetic of the linear layers (<see cref="GuardModelOptions.Precision"/>).</summary>
    public Option<string> Precision { get; } = CreatePrecision();

    /// <summary><c>--int8-sidecar PATH</c> (<see cref="GuardModelOptions.Int8SidecarPath"/>).</summary>
    public Option<string?> Int8Sidecar { get; } = new("--int8-sidecar")
    {
        Description = "With --precision int8: the sidecar file, or the folder `llamaguard quantize --out` wrote it to (default: the model folder).",
        HelpName = "PATH",
    };

    private static Option<string> CreatePrecision()
    {
        var option = new Option<string>("--precision")
        {
            Description = "fp32 (default: float32 over the checkpoint's weights) or int8 (the int8 sidecar of `llamaguard quantize`, AVX-VNNI; "
                + "faster, half the weight memory, small measured drift: docs/int8.md).",
            DefaultValueFactory = _ => "fp32",
        };
        option.AcceptOnlyFromAmong("fp32", "int8");
        return option;
    }

    /// <summary><paramref name="options"/> with <c>--precision</c> and <c>--int8-sidecar</c> applied.</summary>
    public GuardModelOptions ApplyPrecision(ParseResult parseResult, GuardModelOptions options)
    {
        ArgumentNullException.ThrowIfNull(parseResult);
        ArgumentNullException.ThrowIfNull(options);
        var precision = parseResult.GetValue(Precision) == "int8" ? ComputePrecision.Int8 : ComputePrecision.Fp32;
        string? sidecar = parseResult.GetValue(Int8Sidecar);
        if (sidecar is not null && precision != ComputePrecision.Int8)
        {
            throw new ArgumentException("--int8-sidecar applies to --precision int8.");
        }
        return options with { Precision = precision, Int8SidecarPath = sidecar };
    }

    /// <summary><c>--model</c>.</summary>
    public Option<string> Model { get; }

    /// <summary><c>--revision</c>.</summary>
    public Option<string?> Revision { get; }

    /// <summary><c>--download-if-missing</c>.</summary>
    public Option<bool> DownloadIfMissing { get; }

    /// <summary>Adds the three source options to <paramref name="command"/>, and with <paramref name="precision"/> also
    /// <c>--precision</c> and <c>--int8-sidecar</c> (commands that load the model for inference).</summary>
    public void AddTo(Command command, bool precision = true)
    {
        command.Options.Add(Model);
        command.Options.Add(Revision);
        command.Options.Add(DownloadIfMissing);
        if (precision)
        {
            command.Options.Add(Precision);
            command.Options.Add(Int8Sidecar);
        }
    }

    /// <summary>
    /// The model folder to load, or null when <c>--model</c> was not given. Throws <see cref="ModelNotCachedException"/>
    /// (an <see cref="IOException"/>, so a user error) with the download command to run when a repository id is missing.
    /// </summary>
    public async Task<string?> ResolveAsync(ParseResult parseResult, TextWriter error, CancellationToken cancellationToken)
    {
        string? model = parseResult.GetValue(Model);
        if (model is null)
        {
            if (parseResult.GetValue(Revision) is not null || parseResult.GetValue(DownloadIfMissing))
            {
                throw new ArgumentException("--revision and --download-if-missing apply to --model REPO_ID; give --model.");
            }
            return null;
        }
        var options = new ModelLocatorOptions { Revision = parseResult.GetValue(Revision), DownloadIfMissing = parseResult.GetValue(DownloadIfMissing) };
        if (!options.DownloadIfMissing)
        {
            return ModelLocator.Resolve(model, options.Revision);
        }
        return await DownloadProgressView.RunAsync(error, progress => ModelLocator.ResolveAsync(model, options, progress, cancellationToken));
    }
}
