using System.CommandLine;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// The options of every command that loads a <see cref="GuardModel"/> to classify (<c>classify</c>, <c>eval</c>): which
/// model (<see cref="ModelSourceOptions"/>) and each <see cref="GuardModelOptions"/> setting that changes results or
/// resources, with the ranges the library checks. One home, so a new setting reaches every such command at once.
/// </summary>
internal sealed class ModelLoadOptions
{
    public ModelLoadOptions(ModelSourceOptions source) => Source = source;

    /// <summary><c>--model DIR|REPO_ID</c>, <c>--revision</c>, <c>--download-if-missing</c>, <c>--precision</c>, <c>--int8-sidecar</c>.</summary>
    public ModelSourceOptions Source { get; }

    /// <summary><c>--layout hf|meta</c>: <see cref="GuardModelOptions.Layout"/>.</summary>
    public Option<string> Layout { get; } = ConversationOptions.CreateLayoutOption();

    /// <summary><c>--cross-attention hf|meta</c>: <see cref="GuardModelOptions.CrossAttentionMasking"/>.</summary>
    public Option<string> CrossAttention { get; } = ConversationOptions.CreateCrossAttentionOption();

    /// <summary><c>--threads N</c>: <see cref="GuardModelOptions.Threads"/>.</summary>
    public Option<int> Threads { get; } = new Option<int>("--threads")
    {
        Description = "Compute threads (0 = all cores).",
        DefaultValueFactory = _ => 0,
    }.InRange(0, GuardModelOptions.MaxThreads);

    /// <summary><c>--max-new-tokens N</c>: <see cref="GuardModelOptions.MaxNewTokens"/>.</summary>
    public Option<int> MaxNewTokens { get; } = new Option<int>("--max-new-tokens")
    {
        Description = "Greedy decoding limit.",
        DefaultValueFactory = _ => GuardModelOptions.Default.MaxNewTokens,
    }.InRange(1, GuardModelOptions.MaxNewTokensLimit);

    /// <summary><c>--max-prompt-tokens N</c>: <see cref="GuardModelOptions.MaxPromptTokens"/>.</summary>
    public Option<int> MaxPromptTokens { get; } = new Option<int>("--max-prompt-tokens")
    {
        Description = "Longest prompt accepted, in tokens (template included); longer conversations are rejected.",
        DefaultValueFactory = _ => GuardModelOptions.Default.MaxPromptTokens,
    }.InRange(1, GuardModelOptions.MaxPromptTokensLimit);

    /// <summary><c>--no-category-probabilities</c>: <see cref="GuardModelOptions.ComputeCategoryProbabilities"/> off.</summary>
    public Option<bool> NoCategories { get; } = new("--no-category-probabilities")
    {
        Description = "Skip the per-category probabilities (they cost three extra prompt rows, or one decode pass when the model does not start with the expected token).",
    };

    /// <summary><c>--apply-exif-orientation</c>: <see cref="ImageDecoderOptions.ApplyExifOrientation"/>.</summary>
    public Option<bool> ApplyExifOrientation { get; } = new("--apply-exif-orientation")
    {
        Description = "Rotate the image by its EXIF Orientation tag before preprocessing (the reference does not).",
    };

    /// <summary>The options that only matter when a model is loaded (the source's included).</summary>
    public IEnumerable<Option> All =>
        [Source.Model, Source.Revision, Source.DownloadIfMissing, Source.Precision, Source.Int8Sidecar, Layout, CrossAttention, Threads, MaxNewTokens, MaxPromptTokens, NoCategories, ApplyExifOrientation];

    public void AddTo(Command command)
    {
        foreach (var option in All)
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The library options the command line asks for.</summary>
    public GuardModelOptions Bind(ParseResult parseResult) => Source.ApplyPrecision(parseResult, new GuardModelOptions
    {
        Layout = ConversationOptions.ParseLayout(parseResult.GetValue(Layout)),
        CrossAttentionMasking = ConversationOptions.ParseCrossAttention(parseResult.GetValue(CrossAttention)),
        Threads = parseResult.GetValue(Threads),
        MaxNewTokens = parseResult.GetValue(MaxNewTokens),
        MaxPromptTokens = parseResult.GetValue(MaxPromptTokens),
        ImageDecoder = GuardModelOptions.Default.ImageDecoder with { ApplyExifOrientation = parseResult.GetValue(ApplyExifOrientation) },
        ComputeCategoryProbabilities = !parseResult.GetValue(NoCategories),
    });

    /// <summary>Resolves the model (a folder or a cached repository id) and loads it, with progress on stderr.</summary>
    public async Task<GuardModel> LoadAsync(ParseResult parseResult, TextWriter error, CancellationToken cancellationToken)
    {
        string folder = (await Source.ResolveAsync(parseResult, error, cancellationToken))
            ?? throw new ArgumentException("--model is required to load a model.");
        return await GuardModel.LoadAsync(folder, Bind(parseResult),
            new LineProgress<GuardLoadProgress>(p => error.WriteLine($"loading: {p.Stage} ({p.Fraction:P0})")), cancellationToken);
    }
}
