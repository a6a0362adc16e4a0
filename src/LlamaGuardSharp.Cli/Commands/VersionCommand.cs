using System.CommandLine;
using System.Reflection;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary><c>llamaguard version</c>: prints the library and runtime versions.</summary>
public static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the LlamaGuardSharp and .NET runtime versions.");
        command.SetAction(parseResult =>
        {
            var version = typeof(LlamaGuardSharp.Compute.Gemm).Assembly.GetName().Version;
            parseResult.InvocationConfiguration.Output.WriteLine($"LlamaGuardSharp {version} on .NET {Environment.Version}");
            return 0;
        });
        return command;
    }
}
