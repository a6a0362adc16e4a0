using System.Collections.Concurrent;
using System.Diagnostics;
using LlamaGuardSharp.Hub;
using Spectre.Console;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// Shows a download's progress on stderr: per-file and total bars with speed and time left (Spectre.Console) when
/// stderr is a terminal; otherwise plain lines — one per finished file and a total line at most every few seconds — so
/// logs and pipes stay readable.
/// </summary>
internal static class DownloadProgressView
{
    private const string TotalKey = "\0total";

    public static async Task<T> RunAsync<T>(TextWriter error, Func<IProgress<HubDownloadProgress>, Task<T>> work)
    {
        if (!ReferenceEquals(error, Console.Error) || Console.IsErrorRedirected)
        {
            return await work(new PlainLines(error));
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(context => work(new Bars(context)));
    }

    /// <summary>Spectre tasks: one for the total (first) and one per file, created when the file is first reported.</summary>
    private sealed class Bars(ProgressContext context) : IProgress<HubDownloadProgress>
    {
        private readonly ConcurrentDictionary<string, ProgressTask> _tasks = new(StringComparer.Ordinal);
        private readonly Lock _gate = new();

        public void Report(HubDownloadProgress value)
        {
            lock (_gate)
            {
                var total = Task(TotalKey, "[bold]total[/]", value.TotalSize);
                total.Value = value.TotalDone;
                var file = Task(value.Path, Markup.Escape(value.Path), value.FileSize);
                file.Value = value.State == HubFileState.Done ? file.MaxValue : value.FileDone;
                if (value.State == HubFileState.Done)
                {
                    file.StopTask();
                }
                if (value.TotalDone >= value.TotalSize && value.TotalSize > 0)
                {
                    total.StopTask();
                }
            }
        }

        private ProgressTask Task(string key, string description, long size) =>
            _tasks.GetOrAdd(key, _ => context.AddTask(description, maxValue: Math.Max(1, size)));
    }

    /// <summary>Plain lines for logs: each file when done, the total at most every 5 s.</summary>
    private sealed class PlainLines(TextWriter error) : IProgress<HubDownloadProgress>
    {
        private readonly Lock _gate = new();
        private readonly Stopwatch _watch = Stopwatch.StartNew();
        private readonly HashSet<string> _done = new(StringComparer.Ordinal);
        private TimeSpan _lastTotal = TimeSpan.Zero;
        private long _firstTotalDone = -1;

        public void Report(HubDownloadProgress value)
        {
            lock (_gate)
            {
                if (_firstTotalDone < 0)
                {
                    _firstTotalDone = value.TotalDone;
                }
                if (value.State == HubFileState.Done && _done.Add(value.Path))
                {
                    error.WriteLine($"download: {value.Path} ({HubDownloader.FormatBytes(value.FileSize)}) done [{_done.Count} files, {Percent(value)} of {HubDownloader.FormatBytes(value.TotalSize)}]");
                }
                else if (value.State == HubFileState.Transferring && _watch.Elapsed - _lastTotal >= TimeSpan.FromSeconds(5))
                {
                    _lastTotal = _watch.Elapsed;
                    double rate = (value.TotalDone - _firstTotalDone) / Math.Max(0.001, _watch.Elapsed.TotalSeconds);
                    string eta = rate > 0 ? TimeSpan.FromSeconds((value.TotalSize - value.TotalDone) / rate).ToString(@"hh\:mm\:ss") : "?";
                    error.WriteLine($"download: {Percent(value)} of {HubDownloader.FormatBytes(value.TotalSize)} at {HubDownloader.FormatBytes((long)rate)}/s, {eta} left");
                }
            }
        }

        private static string Percent(HubDownloadProgress value) => value.TotalSize > 0 ? $"{100.0 * value.TotalDone / value.TotalSize:F1}%" : "100%";
    }
}
