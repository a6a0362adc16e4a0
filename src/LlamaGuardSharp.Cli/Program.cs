using System.CommandLine;
using LlamaGuardSharp.Cli.Commands;

namespace LlamaGuardSharp.Cli;

public static class Program
{
    public static int Main(string[] args) => BuildRootCommand().Parse(args).Invoke();

    /// <summary>The whole command tree; each command lives in its own file under Commands/.</summary>
    public static RootCommand BuildRootCommand()
    {
        var root = new RootCommand("LlamaGuardSharp: Llama Guard 3 Vision content-safety classification on the CPU.");
        // One line per command, kept in this order: classify, generate, prompt, tokenize, preprocess, synth, bench, eval, serve, version, download, doctor.
        root.Subcommands.Add(ClassifyCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(PromptCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(PreprocessCommand.Create());
        root.Subcommands.Add(SynthCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(DownloadCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        return root;
    }
}
