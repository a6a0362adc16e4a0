using LlamaGuardSharp.Cli;

namespace LlamaGuardSharp.Tests.Infrastructure;

/// <summary>Runs the <c>llamaguard</c> command line in-process, as <c>Main</c> does, with captured stdout and stderr.</summary>
public static class CliRunner
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await Program.RunAsync(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }
}
