using System.CommandLine;
using System.Text;
using System.Text.Json;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard classify --model DIR|REPO_ID --user TEXT [--agent TEXT]... [--image FILE] [--json]</c>: loads the model and
/// classifies the conversation's last turn. Prints <c>unsafe  S1 Violent Crimes  p(unsafe)=0.93</c>, or the whole
/// verdict as JSON with <c>--json</c>. Loading progress goes to stderr.
/// </summary>
public static class ClassifyCommand
{
    public static Command Create()
    {
        var model = new ModelSourceOptions(required: true);
        var conversationOptions = new ConversationOptions(imageIsOptionalFile: false);
        var layout = ConversationOptions.CreateLayoutOption();
        var threads = new Option<int>("--threads")
        {
            Description = "Compute threads (0 = all cores).",
            DefaultValueFactory = _ => 0,
        };
        var maxNewTokens = new Option<int>("--max-new-tokens")
        {
            Description = "Greedy decoding limit.",
            DefaultValueFactory = _ => GuardModelOptions.Default.MaxNewTokens,
        };
        var noCategories = new Option<bool>("--no-category-probabilities")
        {
            Description = "Skip the per-category probabilities (they cost three extra prompt rows, or one decode pass when the model does not start with the expected token).",
        };
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
                + "Consecutive prompts reuse the template's keys/values (the prompt cache).",
            HelpName = "FILE",
        };
        var command = new Command("classify", "Classify a conversation with Llama Guard 3 Vision (safe, or unsafe with categories and probabilities).");
        model.AddTo(command);
        conversationOptions.AddTo(command);
        command.Options.Add(layout);
        command.Options.Add(threads);
        command.Options.Add(maxNewTokens);
        command.Options.Add(noCategories);
        command.Options.Add(both);
        command.Options.Add(json);
        command.Options.Add(input);

        var modelOptions = new ModelOptionSet(model, layout, threads, maxNewTokens, noCategories);
        modelOptions.AddResultOptionsTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                string? inputPath = parseResult.GetValue(input);
                if (inputPath is not null)
                {
                    return await ClassifyLinesAsync(parseResult, inputPath, modelOptions, conversationOptions, both, json, cancellationToken);
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
                error.WriteLine("error: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    /// <summary>
    /// <c>--input</c>: one conversation per JSON line, classified in order with one loaded model (so the prompt cache
    /// serves the template's header from the second line on). Each line's result — or its error — is written as soon as
    /// it is known; progress goes to stderr.
    /// </summary>
    private static async Task<int> ClassifyLinesAsync(ParseResult parseResult, string inputPath, ModelOptionSet modelOptions, ConversationOptions conversationOptions,
        Option<bool> both, Option<bool> json, CancellationToken cancellationToken)
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
        if (!stdin && !File.Exists(inputPath))
        {
            throw new FileNotFoundException($"The input file {inputPath} does not exist.", inputPath);
        }
        string baseDirectory = stdin ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(Path.GetFullPath(inputPath))!;
        using var guard = await modelOptions.LoadAsync(parseResult, error, cancellationToken);
        error.WriteLine($"loaded {guard.ModelDirectory} in {guard.LoadTime.TotalSeconds:F1} s; classifying {(stdin ? "stdin" : inputPath)}…");
        using var reader = stdin ? new StreamReader(Console.OpenStandardInput()) : new StreamReader(inputPath);
        bool asJson = parseResult.GetValue(json);
        int lineNumber = 0, classified = 0, failed = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            string? id = null;
            try
            {
                var parsed = await ConversationLine.ParseAsync(line, baseDirectory, cancellationToken);
                id = parsed.Id;
                var verdict = await guard.ClassifyAsync(parsed.Conversation, policy, cancellationToken);
                classified++;
                output.WriteLine(asJson
                    ? $"{{\"line\":{lineNumber},{IdJson(id)}\"verdict\":{VerdictJson.Serialize(verdict)}}}"
                    : $"{lineNumber}{(id is null ? "" : " " + id)}: {HumanLine(verdict)}");
                error.WriteLine($"line {lineNumber}: {verdict.Kind.ToString().ToLowerInvariant()} in {verdict.Timings.Total.TotalSeconds:F1} s"
                    + (verdict.ReusedPromptTokenCount > 0 ? $" ({verdict.ReusedPromptTokenCount} of {verdict.PromptTokenCount} prompt tokens from the prompt cache)" : ""));
            }
            catch (Exception e) when (e is FormatException || CliErrors.IsUserError(e))
            {
                failed++;
                output.WriteLine(asJson
                    ? $"{{\"line\":{lineNumber},{IdJson(id)}\"error\":{JsonSerializer.Serialize(e.Message)}}}"
                    : $"{lineNumber}{(id is null ? "" : " " + id)}: error: {e.Message}");
                error.WriteLine($"line {lineNumber}: error: {e.Message}");
            }
        }
        error.WriteLine($"{classified} classified, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>The options that say which model to load and how it classifies; loads it with progress on stderr.</summary>
    internal sealed record ModelOptionSet(ModelSourceOptions Model, Option<string> Layout, Option<int> Threads, Option<int> MaxNewTokens, Option<bool> NoCategories)
    {
        /// <summary><c>--cross-attention hf|meta</c>: <see cref="GuardModelOptions.CrossAttentionMasking"/>.</summary>
        public Option<string> CrossAttention { get; } = ConversationOptions.CreateCrossAttentionOption();

        /// <summary><c>--max-prompt-tokens N</c>: <see cref="GuardModelOptions.MaxPromptTokens"/>.</summary>
        public Option<int> MaxPromptTokens { get; } = new("--max-prompt-tokens")
        {
            Description = "Longest prompt accepted, in tokens (template included); longer conversations are rejected.",
            DefaultValueFactory = _ => GuardModelOptions.Default.MaxPromptTokens,
        };

        /// <summary><c>--apply-exif-orientation</c>: <see cref="ImageDecoderOptions.ApplyExifOrientation"/>.</summary>
        public Option<bool> ApplyExifOrientation { get; } = new("--apply-exif-orientation")
        {
            Description = "Rotate the image by its EXIF Orientation tag before preprocessing (the reference does not).",
        };

        /// <summary>Adds the options above, which change results, to a command that loads the model with this set.</summary>
        public void AddResultOptionsTo(Command command)
        {
            command.Options.Add(CrossAttention);
            command.Options.Add(MaxPromptTokens);
            command.Options.Add(ApplyExifOrientation);
        }

        public async Task<GuardModel> LoadAsync(ParseResult parseResult, TextWriter error, CancellationToken cancellationToken)
        {
            string folder = (await Model.ResolveAsync(parseResult, error, cancellationToken))!;
            var options = new GuardModelOptions
            {
                Layout = ConversationOptions.ParseLayout(parseResult.GetValue(Layout)),
                CrossAttentionMasking = ConversationOptions.ParseCrossAttention(parseResult.GetValue(CrossAttention)),
                Threads = parseResult.GetValue(Threads),
                MaxNewTokens = parseResult.GetValue(MaxNewTokens),
                MaxPromptTokens = parseResult.GetValue(MaxPromptTokens),
                ImageDecoder = GuardModelOptions.Default.ImageDecoder with { ApplyExifOrientation = parseResult.GetValue(ApplyExifOrientation) },
                ComputeCategoryProbabilities = !parseResult.GetValue(NoCategories),
            };
            options = Model.ApplyPrecision(parseResult, options);
            return await GuardModel.LoadAsync(folder, options,
                new LineProgress<GuardLoadProgress>(p => error.WriteLine($"loading: {p.Stage} ({p.Fraction:P0})")), cancellationToken);
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
