using System.CommandLine;
using LlamaGuardSharp.Cli;

namespace LlamaGuardSharp.Tests.Infrastructure;

/// <summary>Runs the <c>llamaguard</c> command tree in-process with captured stdout and stderr.</summary>
public static class CliRunner
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await Program.BuildRootCommand().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }
}
