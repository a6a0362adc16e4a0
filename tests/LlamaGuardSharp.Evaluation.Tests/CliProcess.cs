using System.Diagnostics;
using LlamaGuardSharp.Cli;

namespace LlamaGuardSharp.Evaluation.Tests;

/// <summary>Runs the <c>llamaguard</c> CLI: in-process with captured output, or as a child process that can be killed.</summary>
internal static class CliProcess
{
    /// <summary>The CLI's entry assembly, copied next to the tests by the project reference.</summary>
    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "llamaguard.dll");

    /// <summary>Runs the CLI in-process as <c>Main</c> does (<c>Program.RunAsync</c>), with stdout and stderr captured.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunInProcessAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await Program.RunAsync(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Starts <c>dotnet llamaguard.dll ARGS</c> with stdout and stderr collected.</summary>
    public static ChildRun Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(CliDll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        return new ChildRun(Process.Start(info) ?? throw new InvalidOperationException("could not start dotnet"));
    }

    internal sealed class ChildRun : IDisposable
    {
        private readonly Task<string> _output;
        private readonly Task<string> _error;

        public ChildRun(Process process)
        {
            Process = process;
            _output = process.StandardOutput.ReadToEndAsync();
            _error = process.StandardError.ReadToEndAsync();
        }

        public Process Process { get; }

        public async Task<(int ExitCode, string Output, string Error)> WaitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            await Process.WaitForExitAsync(cts.Token);
            return (Process.ExitCode, await _output, await _error);
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }
            Process.Dispose();
        }
    }
}
