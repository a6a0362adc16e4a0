using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlamaGuardSharp.Prompting;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard prompt</c>: renders the Llama Guard 3 Vision prompt for a conversation given on the command line.
/// Turns are taken in command-line order (<c>--user a --agent b --user c</c> is User, Agent, User).
/// </summary>
public static class PromptCommand
{
    public static Command Create()
    {
        var user = new Option<string[]>("--user")
        {
            Description = "A user message (repeatable; turns are taken in command-line order).",
            HelpName = "TEXT",
            AllowMultipleArgumentsPerToken = false,
        };
        var agent = new Option<string[]>("--agent")
        {
            Description = "An agent (assistant) message (repeatable; turns are taken in command-line order).",
            HelpName = "TEXT",
            AllowMultipleArgumentsPerToken = false,
        };
        var image = new Option<string?>("--image")
        {
            Description = "The first user turn carries the image. Optionally give the image file (it is read and checked to be non-empty).",
            Arity = ArgumentArity.ZeroOrOne,
            HelpName = "FILE",
        };
        var exclude = new Option<string[]>("--exclude")
        {
            Description = "Comma-separated category codes to leave out of the prompt, e.g. S1,S2 (codes are not renumbered).",
            HelpName = "CODES",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var categories = new Option<string?>("--categories")
        {
            Description = "JSON file with a custom category table (see docs/safety-policy.md); replaces S1-S13.",
            HelpName = "FILE",
        };
        var layout = new Option<string>("--layout")
        {
            Description = "Prompt layout: hf (byte-exact HF chat template) or meta (Meta-native, verdict is the first generated token).",
            DefaultValueFactory = _ => "hf",
        };
        layout.AcceptOnlyFromAmong("hf", "meta");
        var ids = new Option<bool>("--ids")
        {
            Description = "Also print the token ids (JSON array); needs --tokenizer.",
        };
        var tokenizer = new Option<string?>("--tokenizer")
        {
            Description = "Tokenizer file for --ids (tokenizer.json or Meta's tokenizer.model).",
            HelpName = "PATH",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object {layout, task, has_image, prompt, ids?} instead of the raw prompt.",
        };

        var command = new Command("prompt", "Render the Llama Guard 3 Vision prompt for a conversation (no model needed).")
        {
            user, agent, image, exclude, categories, layout, ids, tokenizer, json,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var turns = TurnsInCommandLineOrder(parseResult, user, agent);
                bool withImage = parseResult.GetResult(image) is not null;
                if (turns.Count == 0)
                {
                    throw new ConversationException(ConversationProblem.Empty, "Give at least one --user message.");
                }

                ConversationImage? picture = null;
                if (withImage)
                {
                    string? imagePath = parseResult.GetValue(image);
                    picture = string.IsNullOrEmpty(imagePath)
                        ? ConversationImage.Placeholder()
                        : await ConversationImage.FromFileAsync(imagePath, cancellationToken);
                }

                var builder = Conversation.Create();
                bool imagePlaced = false;
                foreach (var (role, text) in turns)
                {
                    if (role == Role.User)
                    {
                        builder = builder.User(text, imagePlaced ? null : picture);
                        imagePlaced = true;
                    }
                    else
                    {
                        builder = builder.Agent(text);
                    }
                }
                var conversation = builder.Build();

                string? categoriesPath = parseResult.GetValue(categories);
                var policy = categoriesPath is null
                    ? SafetyPolicy.Default
                    : await SafetyPolicy.LoadAsync(categoriesPath, cancellationToken);
                var excluded = (parseResult.GetValue(exclude) ?? [])
                    .SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                    .ToArray();
                policy = policy.Exclude(excluded);

                var promptLayout = parseResult.GetValue(layout) == "meta" ? PromptLayout.MetaNative : PromptLayout.HuggingFace;
                var rendered = PromptRenderer.RenderSegments(conversation, policy, promptLayout);

                int[]? tokenIds = null;
                if (parseResult.GetValue(ids))
                {
                    string? tokenizerPath = parseResult.GetValue(tokenizer);
                    if (tokenizerPath is null)
                    {
                        error.WriteLine("error: --ids needs --tokenizer PATH.");
                        return 2;
                    }
                    var llamaTokenizer = await Llama3Tokenizer.LoadAsync(tokenizerPath, cancellationToken);
                    tokenIds = PromptEncoder.Encode(rendered, llamaTokenizer);
                }

                if (parseResult.GetValue(json))
                {
                    output.WriteLine(ToJson(rendered, tokenIds));
                }
                else
                {
                    // The prompt is written byte-exact: no newline is added after it (it ends with a control token
                    // or "\n\n"), so `llamaguard prompt ... > p.txt` gives exactly the string the model sees.
                    output.Write(rendered.Text);
                    if (tokenIds is not null)
                    {
                        output.WriteLine();
                        output.WriteLine(JsonSerializer.Serialize(tokenIds));
                    }
                }
                return 0;
            }
            catch (Exception e) when (e is ConversationException or SafetyPolicyException or TokenizerFormatException or ArgumentException
                                           or IOException or UnauthorizedAccessException)
            {
                error.WriteLine("error: " + e.Message);
                return 1;
            }
        });
        return command;
    }

    /// <summary>
    /// The --user/--agent values in the order they appear on the command line. System.CommandLine groups values per
    /// option, so the interleaving is recovered from the positions of the value tokens in the full token list.
    /// </summary>
    internal static List<(Role Role, string Text)> TurnsInCommandLineOrder(ParseResult parseResult, Option<string[]> user, Option<string[]> agent)
    {
        var positions = new List<(int Index, Role Role, string Text)>();
        var all = parseResult.Tokens;
        Collect(parseResult.GetResult(user), Role.User);
        Collect(parseResult.GetResult(agent), Role.Agent);
        positions.Sort((a, b) => a.Index.CompareTo(b.Index));
        return positions.Select(p => (p.Role, p.Text)).ToList();

        void Collect(OptionResult? result, Role role)
        {
            if (result is null)
            {
                return;
            }
            if (result.IdentifierTokenCount != result.Tokens.Count)
            {
                // e.g. a trailing "--user" with no text: System.CommandLine accepts it silently, which would drop a turn.
                throw new ConversationException(ConversationProblem.EmptyTurn,
                    $"Each {result.Option.Name} needs exactly one TEXT value (use \"\" for an empty one).");
            }
            foreach (var token in result.Tokens)
            {
                int index = IndexOfInstance(all, token);
                if (index < 0)
                {
                    throw new InvalidOperationException($"Cannot locate the {role} message '{token.Value}' on the command line.");
                }
                positions.Add((index, role, token.Value));
            }
        }
    }

    private static int IndexOfInstance(IReadOnlyList<Token> tokens, Token token)
    {
        for (int i = 0; i < tokens.Count; i++)
        {
            if (ReferenceEquals(tokens[i], token))
            {
                return i;
            }
        }
        return -1;
    }

    private static string ToJson(RenderedPrompt rendered, int[]? tokenIds)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("layout", rendered.Layout == PromptLayout.HuggingFace ? "hf" : "meta");
            writer.WriteString("task", rendered.Task == ClassificationTask.PromptClassification ? "prompt_classification" : "response_classification");
            writer.WriteBoolean("has_image", rendered.HasImage);
            writer.WriteString("prompt", rendered.Text);
            if (tokenIds is not null)
            {
                writer.WriteStartArray("ids");
                foreach (int id in tokenIds)
                {
                    writer.WriteNumberValue(id);
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
