using System.CommandLine;
using System.Text;
using System.Text.Json;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.IO;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard classify --model DIR|REPO_ID --user TEXT [--agent TEXT]... [--image FILE] [--json]</c>: loads the model and
/// classifies the conversation's last turn. Prints <c>unsafe  S1 Violent Crimes  p(unsafe)=0.93</c>, or the whole
/// verdict as JSON with <c>--json</c>. Loading progress goes to stderr.
/// </summary>
public static class ClassifyCommand
{
    /// <summary>
    /// Largest line of an <c>--input</c> file (docs/limits.md); a longer line is that line's error. 1 MiB holds any
    /// conversation within the 8192-token prompt limit many times over, even JSON-escaped.
    /// </summary>
    internal const int MaxLineBytes = 1 << 20;

    public static Command Create()
    {
        var model = new ModelSourceOptions(required: true);
        var conversationOptions = new ConversationOptions(imageIsOptionalFile: false);
        var both = new Option<bool>("--both")
        {
            Description = "For a conversation that ends with an agent turn: classify the prompt (the conversation without that turn) and then the response; the image is encoded once.",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print the full verdict as one JSON object (with --both: {\"prompt\": …, \"response\": …}; with --input: one object per line).",
        };
        var input = new Option<string?>("--input")
        {
            Description = "Classify many conversations with the model loaded once: a JSON Lines file (- for stdin), one conversation per line, e.g. "
                + "{\"id\": \"a1\", \"user\": \"…\", \"agent\": \"…\", \"image\": \"photo.jpg\"} or {\"turns\": [{\"role\": \"user\", \"content\": \"…\"}]}. "
                + "Prints one verdict per line; a bad line gets an error line and the rest go on (exit code 1 if any failed). "
                + "A relative image path is resolved against the input file's folder (the current folder for stdin), an absolute one as given; see --input-root. "
                + "Consecutive prompts reuse the template's keys/values (the prompt cache).",
            HelpName = "FILE",
        };
        var inputRoot = new Option<string?>("--input-root")
        {
            Description = "With --input: confine image paths to this folder. They must then be relative, are resolved against it, and may not leave it "
                + "(.. or symbolic links); an error says nothing about files outside it.",
            HelpName = "DIR",
        };
        var command = new Command("classify", "Classify a conversation with Llama Guard 3 Vision (safe, or unsafe with categories and probabilities).");
        var modelOptions = new ModelLoadOptions(model);
        modelOptions.AddTo(command);
        conversationOptions.AddTo(command);
        command.Options.Add(both);
        command.Options.Add(json);
        command.Options.Add(input);
        command.Options.Add(inputRoot);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                string? inputPath = parseResult.GetValue(input);
                if (inputPath is not null)
                {
                    return await ClassifyLinesAsync(parseResult, inputPath, parseResult.GetValue(inputRoot), modelOptions, conversationOptions, both, json,
                        cancellationToken);
                }
                if (parseResult.GetResult(inputRoot) is not null)
                {
                    throw new ArgumentException("--input-root confines the image paths of an --input file; give --input too.");
                }
                var (conversation, policy) = await conversationOptions.BindAsync(parseResult, cancellationToken);
                bool exchange = parseResult.GetValue(both);
                if (exchange && (conversation.LastRole != Role.Agent || conversation.Turns.Count < 2))
                {
                    throw new ArgumentException("--both needs a conversation that ends with an agent turn after a user turn.");
                }
                using var guard = await modelOptions.LoadAsync(parseResult, error, cancellationToken);
                error.WriteLine($"loaded {guard.ModelDirectory} in {guard.LoadTime.TotalSeconds:F1} s; classifying…");
                if (exchange)
                {
                    // The prompt first: its image encoding stays in the model's image cache for the response.
                    var prompt = await guard.ClassifyAsync(Conversation.FromTurns(conversation.Turns.Take(conversation.Turns.Count - 1)), policy, cancellationToken);
                    var response = await guard.ClassifyAsync(conversation, policy, cancellationToken);
                    output.WriteLine(parseResult.GetValue(json)
                        ? VerdictJson.Serialize(new ExchangeVerdicts(prompt, response))
                        : $"prompt:   {HumanLine(prompt)}{Environment.NewLine}response: {HumanLine(response)}");
                    return 0;
                }
                var verdict = await guard.ClassifyAsync(conversation, policy, cancellationToken);
                output.WriteLine(parseResult.GetValue(json) ? VerdictJson.Serialize(verdict) : HumanLine(verdict));
                return 0;
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(error, e);
            }
        });
        return command;
    }

    /// <summary>
    /// <c>--input</c>: one conversation per JSON line, classified in order with one loaded model (so the prompt cache
    /// serves the template's header from the second line on). Each line's result — or its error — is written as soon as
    /// it is known; progress goes to stderr. Whatever goes wrong with one line (bad JSON, a lone surrogate, a missing
    /// image, a failure inside the model) is that line's error and the next line is read; only a closed standard output
    /// or cancellation stops the run.
    /// </summary>
    private static async Task<int> ClassifyLinesAsync(ParseResult parseResult, string inputPath, string? inputRootPath, ModelLoadOptions modelOptions,
        ConversationOptions conversationOptions, Option<bool> both, Option<bool> json, CancellationToken cancellationToken)
    {
        var output = parseResult.InvocationConfiguration.Output;
        var error = parseResult.InvocationConfiguration.Error;
        if (parseResult.GetResult(conversationOptions.User) is not null || parseResult.GetResult(conversationOptions.Agent) is not null
            || parseResult.GetResult(conversationOptions.Image) is not null)
        {
            throw new ArgumentException("--input reads the conversations from a file: leave out --user, --agent and --image.");
        }
        if (parseResult.GetValue(both))
        {
            throw new ArgumentException("--both classifies one conversation given on the command line; it does not combine with --input.");
        }
        var policy = await conversationOptions.BindPolicyAsync(parseResult, cancellationToken);
        bool stdin = inputPath == "-";
        var images = inputRootPath is not null
            ? ImagePathResolver.Confined(new InputRoot(inputRootPath))
            : ImagePathResolver.RelativeTo(stdin ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(Path.GetFullPath(inputPath))!);
        // Opened before the model loads, so a wrong path fails fast; a FIFO is allowed here (lines are streamed), a device is not.
        // Opening a FIFO waits for its writer and cannot be interrupted, so the wait is abandoned on cancellation (SIGTERM).
        await using Stream inputStream = stdin ? Console.OpenStandardInput() : await Task.Run(() => OpenInputFile(inputPath), cancellationToken).WaitAsync(cancellationToken);
        using var guard = await modelOptions.LoadAsync(parseResult, error, cancellationToken);
        error.WriteLine($"loaded {guard.ModelDirectory} in {guard.LoadTime.TotalSeconds:F1} s; classifying {(stdin ? "stdin" : inputPath)}…");
        var reader = new BoundedLineReader(inputStream, MaxLineBytes);
        bool asJson = parseResult.GetValue(json);
        int classified = 0, failed = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Error is null && string.IsNullOrWhiteSpace(line.Text))
            {
                continue;
            }
            string? id = null;
            string message;
            try
            {
                if (line.Error is not null)
                {
                    throw new FormatException(line.Error);
                }
                var parsed = await ConversationLine.ParseAsync(line.Text!, images, cancellationToken);
                id = parsed.Id;
                var verdict = await guard.ClassifyAsync(parsed.Conversation, policy, cancellationToken);
                classified++;
                output.WriteLine(asJson
                    ? $"{{\"line\":{line.Number},{IdJson(id)}\"verdict\":{VerdictJson.Serialize(verdict)}}}"
                    : $"{line.Number}{(id is null ? "" : " " + id)}: {HumanLine(verdict)}");
                error.WriteLine($"line {line.Number}: {verdict.Kind.ToString().ToLowerInvariant()} in {verdict.Timings.Total.TotalSeconds:F1} s"
                    + (verdict.ReusedPromptTokenCount > 0 ? $" ({verdict.ReusedPromptTokenCount} of {verdict.PromptTokenCount} prompt tokens from the prompt cache)" : ""));
                continue;
            }
            catch (Exception e) when (e is not StandardOutputClosedException && !(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                message = CliErrors.Describe(e);
            }
            failed++;
            output.WriteLine(asJson
                ? $"{{\"line\":{line.Number},{IdJson(id)}\"error\":{JsonSerializer.Serialize(message)}}}"
                : $"{line.Number}{(id is null ? "" : " " + id)}: error: {message}");
            error.WriteLine($"line {line.Number}: failed: {message}");
        }
        error.WriteLine($"{classified} classified, {failed} failed");
        // The lines' errors are in the results; stderr ends with the one error line of a run that did not fully succeed.
        return failed == 0 ? 0 : CliErrors.Report(error, $"{failed} of {classified + failed} lines failed (see their error results)");
    }

    /// <summary>The <c>--input</c> file: a regular file or a named pipe (streamed line by line), never a directory or a device.</summary>
    private static FileStream OpenInputFile(string path)
    {
        try
        {
            BoundedFile.EnsureRegularFile(path, "input file");
        }
        catch (InputFileException e) when (e.Problem == InputFileProblem.NotRegularFile && FileKinds.Of(path) == FileKind.Fifo)
        {
            // A FIFO is a stream of lines like stdin: opening it waits for its writer, as `cat fifo` would.
        }
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"input file {path}: cannot be read ({e.Message})", e);
        }
    }

    private static string IdJson(string? id) => id is null ? "" : $"\"id\":{JsonSerializer.Serialize(id)},";

    /// <summary>e.g. <c>unsafe  S1 Violent Crimes, S9 Indiscriminate Weapons  p(unsafe)=0.93</c>.</summary>
    internal static string HumanLine(SafetyVerdict verdict)
    {
        var line = new StringBuilder();
        line.Append(verdict.Kind switch
        {
            VerdictKind.Safe => "safe",
            VerdictKind.Unsafe => "unsafe",
            _ => "unparseable",
        });
        if (verdict.IsUnsafe)
        {
            var names = verdict.ViolatedCategories.Select(c => $"{c.Code} {c.Name}").Concat(verdict.UnknownCodes.Select(c => $"{c} (not in policy)"));
            line.Append("  ").Append(string.Join(", ", names));
        }
        if (verdict.Kind == VerdictKind.Unparseable)
        {
            line.Append("  output=").Append(JsonSerializer.Serialize(verdict.RawOutput));
        }
        line.Append(System.Globalization.CultureInfo.InvariantCulture, $"  p(unsafe)={verdict.UnsafeProbability:0.00##}");
        return line.ToString();
    }
}
