using System.Diagnostics;

namespace LlamaGuardSharp.Tests.Infrastructure;

/// <summary>What a <c>llamaguard</c> child process did: exit code, output, wall time and peak resident memory.</summary>
public sealed record CliProcessResult(int ExitCode, string Output, string Error, TimeSpan Elapsed, long PeakRssBytes, bool TimedOut)
{
    /// <summary>The lines of stderr that start with <c>error:</c>.</summary>
    public string[] ErrorLines => Error.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToArray();
}

/// <summary>
/// Runs the built CLI (<c>llamaguard.dll</c>, next to the tests) as a child process, for what an in-process run cannot
/// show: peak memory (VmHWM from /proc, sampled until the child exits), a broken stdout pipe, signals, real stdin.
/// </summary>
public static class CliProcess
{
    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "llamaguard.dll");

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(CliDll);
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }
        return info;
    }

    /// <summary>Runs to completion (or kills after <paramref name="timeout"/>), sampling the peak RSS every few milliseconds.</summary>
    public static async Task<CliProcessResult> RunAsync(TimeSpan timeout, string? stdin, params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stopwatch = Stopwatch.StartNew();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }
        process.StandardInput.Close();
        long peak = 0;
        bool timedOut = false;
        while (!process.HasExited)
        {
            peak = Math.Max(peak, PeakRss(process.Id));
            if (stopwatch.Elapsed > timeout)
            {
                timedOut = true;
                process.Kill(entireProcessTree: true);
                break;
            }
            await Task.Delay(5);
        }
        await process.WaitForExitAsync();
        stopwatch.Stop();
        return new CliProcessResult(process.ExitCode, await output, await error, stopwatch.Elapsed, peak, timedOut);
    }

    /// <summary>VmHWM of a live process in bytes (0 once it is gone).</summary>
    public static long PeakRss(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return 0;
    }
}
