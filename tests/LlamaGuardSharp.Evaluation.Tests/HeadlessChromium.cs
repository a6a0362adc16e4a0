using System.Diagnostics;

namespace LlamaGuardSharp.Evaluation.Tests;

/// <summary>
/// Real Chromium in headless mode, for checking the HTML report as a browser lays it out. When no Chromium is on the
/// PATH: under CI (the CI variable set) it is installed with apt-get, and a failed install fails the test; on a
/// developer machine the test is reported as skipped, with the reason.
/// </summary>
internal static class HeadlessChromium
{
    private static readonly string[] Names = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    /// <summary>The Chromium executable; skips (locally) or installs (CI) when there is none.</summary>
    public static async Task<string> RequireAsync()
    {
        if (Find() is { } found)
        {
            return found;
        }
        bool ci = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));
        Skip.If(!ci, "SKIPPED: chromium is not installed (apt-get install chromium); under CI this test installs it and must run.");
        await InstallGate.WaitAsync();
        try
        {
            if (Find() is null)
            {
                await RunAsync("apt-get", ["update"], TimeSpan.FromMinutes(5));
                var (code, output) = await RunAsync("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], TimeSpan.FromMinutes(8));
                Assert.True(code == 0, "apt-get install chromium failed:\n" + output);
            }
        }
        finally
        {
            InstallGate.Release();
        }
        return Find() ?? throw new InvalidOperationException("chromium is still not on the PATH after apt-get install chromium");
    }

    /// <summary>The DOM after the page's load event (<c>--dump-dom</c>), scripts run.</summary>
    public static async Task<string> DumpDomAsync(string chromium, string htmlPath)
    {
        var (code, output) = await RunAsync(chromium,
            ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--dump-dom", new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri],
            TimeSpan.FromMinutes(2), stdoutOnly: true);
        Assert.True(code == 0, $"chromium exited with {code}:\n{output}");
        return output;
    }

    private static string? Find()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var name in Names)
            {
                string candidate = Path.Combine(directory, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }
        return null;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] args, TimeSpan timeout, bool stdoutOnly = false)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {timeout}");
        }
        return (process.ExitCode, stdoutOnly ? await stdout : await stdout + await stderr);
    }
}
