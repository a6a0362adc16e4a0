using System.CommandLine;
using System.CommandLine.Parsing;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Prompting;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// The options that describe a conversation and its policy, shared by <c>prompt</c> and <c>classify</c>:
/// <c>--user</c>/<c>--agent</c> turns in command-line order, <c>--image</c>, <c>--exclude</c>, <c>--categories</c>.
/// </summary>
internal sealed class ConversationOptions
{
    private readonly bool _imageIsOptionalFile;

    /// <param name="imageIsOptionalFile">
    /// true for <c>prompt</c> (a bare <c>--image</c> marks the image slot without a file); false for <c>classify</c>,
    /// where the image file is required.
    /// </param>
    public ConversationOptions(bool imageIsOptionalFile)
    {
        _imageIsOptionalFile = imageIsOptionalFile;
        User = new Option<string[]>("--user")
        {
            Description = "A user message (repeatable; turns are taken in command-line order).",
            HelpName = "TEXT",
            AllowMultipleArgumentsPerToken = false,
        };
        Agent = new Option<string[]>("--agent")
        {
            Description = "An agent (assistant) message (repeatable; turns are taken in command-line order).",
            HelpName = "TEXT",
            AllowMultipleArgumentsPerToken = false,
        };
        Image = new Option<string?>("--image")
        {
            Description = imageIsOptionalFile
                ? "The first user turn carries the image. Optionally give the image file (it is read and checked to be non-empty)."
                : "Image file attached to the first user turn (JPEG, PNG, WebP, GIF, BMP).",
            Arity = imageIsOptionalFile ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
            HelpName = "FILE",
        };
        Exclude = new Option<string[]>("--exclude")
        {
            Description = "Comma-separated category codes to leave out of the prompt, e.g. S1,S2 (codes are not renumbered).",
            HelpName = "CODES",
            Arity = ArgumentArity.ZeroOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        Categories = new Option<string?>("--categories")
        {
            Description = "JSON file with a custom category table (see docs/safety-policy.md); replaces S1-S13.",
            HelpName = "FILE",
        };
    }

    public Option<string[]> User { get; }

    public Option<string[]> Agent { get; }

    public Option<string?> Image { get; }

    public Option<string[]> Exclude { get; }

    public Option<string?> Categories { get; }

    /// <summary>The <c>--layout hf|meta</c> option.</summary>
    public static Option<string> CreateLayoutOption()
    {
        var layout = new Option<string>("--layout")
        {
            Description = "Prompt layout: hf (byte-exact HF chat template) or meta (Meta-native, verdict is the first generated token).",
            DefaultValueFactory = _ => "hf",
        };
        layout.AcceptOnlyFromAmong("hf", "meta");
        return layout;
    }

    public static PromptLayout ParseLayout(string? value) => value == "meta" ? PromptLayout.MetaNative : PromptLayout.HuggingFace;

    /// <summary><c>--cross-attention hf|meta</c>: <see cref="GuardModelOptions.CrossAttentionMasking"/>, for every command that loads the model.</summary>
    public static Option<string> CreateCrossAttentionOption()
    {
        var masking = new Option<string>("--cross-attention")
        {
            Description = "What text before the image gets from the cross-attention layers: hf (transformers: attends to every vision token; "
                + "what the Hub model computes) or meta (Meta's reference and vLLM: zero).",
            DefaultValueFactory = _ => "hf",
        };
        masking.AcceptOnlyFromAmong("hf", "meta");
        return masking;
    }

    public static CrossAttentionMasking ParseCrossAttention(string? value) =>
        value == "meta" ? CrossAttentionMasking.Meta : CrossAttentionMasking.HuggingFace;

    public void AddTo(Command command)
    {
        command.Options.Add(User);
        command.Options.Add(Agent);
        command.Options.Add(Image);
        command.Options.Add(Exclude);
        command.Options.Add(Categories);
    }

    /// <summary>Builds the conversation (image on the first user turn) and the policy from the parsed options.</summary>
    public async Task<(Conversation Conversation, SafetyPolicy Policy)> BindAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        var turns = TurnsInCommandLineOrder(parseResult, User, Agent);
        if (turns.Count == 0)
        {
            throw new ConversationException(ConversationProblem.Empty, "Give at least one --user message.");
        }

        ConversationImage? picture = null;
        if (parseResult.GetResult(Image) is not null)
        {
            string? imagePath = parseResult.GetValue(Image);
            picture = string.IsNullOrEmpty(imagePath)
                ? (_imageIsOptionalFile ? ConversationImage.Placeholder() : throw new ArgumentException("--image needs a FILE."))
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

        return (builder.Build(), await BindPolicyAsync(parseResult, cancellationToken));
    }

    /// <summary>The policy of <c>--categories</c> (default S1–S13) without the <c>--exclude</c>d codes.</summary>
    public async Task<SafetyPolicy> BindPolicyAsync(ParseResult parseResult, CancellationToken cancellationToken)
    {
        string? categoriesPath = parseResult.GetValue(Categories);
        var policy = categoriesPath is null
            ? SafetyPolicy.Default
            : await SafetyPolicy.LoadAsync(categoriesPath, cancellationToken);
        var excluded = (parseResult.GetValue(Exclude) ?? [])
            .SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .ToArray();
        return policy.Exclude(excluded);
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

}
