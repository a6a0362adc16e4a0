using System.Diagnostics;

namespace LlamaGuardSharp.Hub.Tests;

/// <summary>
/// Runs the built <c>llamaguard</c> (copied next to the tests) as a separate process with its own environment, so the
/// HF_* variables, offline mode and being killed are real.
/// </summary>
public static class ChildProcess
{
    public static ProcessStartInfo StartInfo(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "llamaguard.dll"));
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        // Nothing of the developer's own Hugging Face set-up may leak in.
        foreach (string name in new[] { "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_TOKEN_PATH" })
        {
            info.Environment.Remove(name);
        }
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }
        return info;
    }

    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        using var process = Process.Start(StartInfo(environment, args))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"llamaguard {string.Join(' ', args)} ran for more than 3 minutes: {await error}");
        }
        return (process.ExitCode, await output, await error);
    }
}
