using System.CommandLine;
using System.Text.Json;
using LlamaGuardSharp.Hub;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard download [REPO_ID] [--revision REV] [--cache-dir DIR | --local-dir DIR] [--token T] [--include GLOB]…
/// [--exclude GLOB]… [--max-parallel N] [--json]</c>: fetches a model from the Hugging Face Hub into the hub cache that
/// Python's huggingface_hub shares (or a plain folder), resuming partial downloads; a second run transfers nothing.
/// Progress on stderr; the model folder (or with <c>--json</c> a summary) on stdout.
/// </summary>
public static class DownloadCommand
{
    /// <summary>The most files <c>--max-parallel</c> fetches at once (more only multiplies open connections to the Hub).</summary>
    public const int MaxParallelDownloads = 64;

    public static Command Create()
    {
        var repo = new Argument<string>("REPO_ID")
        {
            Description = $"The Hub repository (default {ModelLocator.DefaultRepoId}).",
            DefaultValueFactory = _ => ModelLocator.DefaultRepoId,
        };
        var revision = new Option<string>("--revision")
        {
            Description = "Branch, tag or commit sha.",
            HelpName = "REV",
            DefaultValueFactory = _ => "main",
        };
        var cacheDir = new Option<string?>("--cache-dir")
        {
            Description = "The hub cache to fill (default HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub).",
            HelpName = "DIR",
        };
        var localDir = new Option<string?>("--local-dir")
        {
            Description = "Write plain files into this folder instead of the cache (pass the folder to --model).",
            HelpName = "DIR",
        };
        var token = new Option<string?>("--token")
        {
            Description = "Hub access token (default HF_TOKEN, else $HF_HOME/token). Gated models such as Llama Guard need one whose account accepted the licence.",
            HelpName = "T",
        };
        var include = new Option<string[]>("--include")
        {
            Description = "Download only files matching this glob (repeatable; fnmatch rules, * crosses folders). Replaces the default "
                + $"{string.Join(' ', FilePatterns.DefaultInclude)} without {string.Join(' ', FilePatterns.DefaultExclude)}.",
            HelpName = "GLOB",
            AllowMultipleArgumentsPerToken = false,
        };
        var exclude = new Option<string[]>("--exclude")
        {
            Description = "Skip files matching this glob (repeatable; a trailing / means the whole folder).",
            HelpName = "GLOB",
            AllowMultipleArgumentsPerToken = false,
        };
        var maxParallel = new Option<int>("--max-parallel")
        {
            Description = "Files downloaded at the same time.",
            HelpName = "N",
            DefaultValueFactory = _ => 8,
        }.InRange(1, MaxParallelDownloads);
        var json = new Option<bool>("--json")
        {
            Description = "Print a JSON summary (repo, commit, folder, files with their outcome and bytes transferred) on stdout.",
        };
        var command = new Command("download", "Download a model from the Hugging Face Hub into the shared Hugging Face cache (resumable; a second run is a no-op).")
        {
            repo, revision, cacheDir, localDir, token, include, exclude, maxParallel, json,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var repoId = RepoId.Parse(parseResult.GetValue(repo)!);
                string? cache = parseResult.GetValue(cacheDir), local = parseResult.GetValue(localDir);
                if (cache is not null && local is not null)
                {
                    throw new ArgumentException("--cache-dir and --local-dir exclude each other: the cache keeps blobs and snapshot links, --local-dir plain files.");
                }
                int parallel = parseResult.GetValue(maxParallel);
                string[] includes = parseResult.GetValue(include) ?? [], excludes = parseResult.GetValue(exclude) ?? [];
                var files = includes.Length > 0
                    ? new FilePatterns(includes, excludes)
                    : new FilePatterns(FilePatterns.DefaultInclude, [.. FilePatterns.DefaultExclude, .. excludes]);
                var settings = HubSettings.FromEnvironment();
                if (parseResult.GetValue(token) is { Length: > 0 } explicitToken)
                {
                    settings = settings with { Token = explicitToken };
                }
                var request = new HubDownloadRequest(repoId)
                {
                    Revision = parseResult.GetValue(revision)!,
                    CacheDirectory = local is null ? cache ?? settings.CacheDirectory : null,
                    LocalDirectory = local,
                    Files = files,
                    MaxParallel = parallel,
                };
                using var client = new HubClient(settings);
                error.WriteLine($"download: {repoId} at '{request.Revision}' from {settings.Endpoint} into {local ?? request.CacheDirectory}");
                var result = await DownloadProgressView.RunAsync(error, progress => new HubDownloader(client).DownloadAsync(request, progress, cancellationToken));
                error.WriteLine($"download: {result.Files.Count} files, {HubDownloader.FormatBytes(result.TotalBytes)}, commit {result.Commit}; "
                    + $"{HubDownloader.FormatBytes(result.BytesTransferred)} transferred in {result.Elapsed.TotalSeconds:F1} s");
                output.WriteLine(parseResult.GetValue(json) ? Summary(result) : result.Folder);
                return 0;
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(error, e);
            }
        });
        return command;
    }

    private static string Summary(HubDownloadResult result) => JsonSerializer.Serialize(new
    {
        repo = result.RepoId.ToString(),
        revision = result.Revision,
        commit = result.Commit,
        folder = result.Folder,
        total_bytes = result.TotalBytes,
        bytes_transferred = result.BytesTransferred,
        elapsed_seconds = Math.Round(result.Elapsed.TotalSeconds, 3),
        files = result.Files.Select(f => new
        {
            path = f.Path,
            size = f.Size,
            bytes_transferred = f.BytesTransferred,
            outcome = f.Outcome switch
            {
                HubFileOutcome.Downloaded => "downloaded",
                HubFileOutcome.Resumed => "resumed",
                HubFileOutcome.AlreadyPresent => "present",
                _ => "linked",
            },
            local_path = f.LocalPath,
        }),
    });
}
