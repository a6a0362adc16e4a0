using System.CommandLine;
using LlamaGuardSharp.Cli.Commands;

namespace LlamaGuardSharp.Cli;

public static class Program
{
    public static int Main(string[] args) => RunAsync(args, StandardOutput.Create(), Console.Error).GetAwaiter().GetResult();

    /// <summary>
    /// Parses and runs one command line. Every failure — a parse error, an option outside its range, bad input, even
    /// an unexpected exception — is one <c>error: …</c> line on <paramref name="error"/> with exit code 1 (130 when
    /// cancelled); nothing but results and <c>--help</c> is written to <paramref name="output"/>.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ParseResult parseResult = BuildRootCommand().Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            string command = string.Join(' ', CommandPath(parseResult.CommandResult.Command));
            var messages = parseResult.Errors.Select(e => ParseErrors.Readable(e.Message).TrimEnd('.')).Distinct();
            return CliErrors.Report(error, $"{string.Join("; ", messages)} (see {command} --help)");
        }
        try
        {
            return await parseResult.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false },
                cancellationToken);
        }
        catch (StandardOutputClosedException e)
        {
            return ReportQuietly(error, e.Message);
        }
        catch (OperationCanceledException)
        {
            ReportQuietly(error, "cancelled");
            return 130;
        }
        catch (Exception e)
        {
            return ReportQuietly(error, CliErrors.Describe(e));
        }
    }

    /// <summary>Reports on stderr, which may itself be gone (then the exit code is all that is left).</summary>
    private static int ReportQuietly(TextWriter error, string message)
    {
        try
        {
            return CliErrors.Report(error, message);
        }
        catch (IOException)
        {
            return CliErrors.ExitCode;
        }
    }

    private static IEnumerable<string> CommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? symbol = command; symbol is Command c; symbol = c.Parents.FirstOrDefault())
        {
            names.Add(c is RootCommand ? "llamaguard" : c.Name);
        }
        names.Reverse();
        return names;
    }

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
