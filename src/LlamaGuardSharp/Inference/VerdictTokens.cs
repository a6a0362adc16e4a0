using LlamaGuardSharp.Prompting;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// The token ids a classification relies on, looked up in the loaded tokenizer rather than written down as numbers:
/// the verdict words <c>safe</c> and <c>unsafe</c>, the <c>\n\n</c> the HF layout makes the model write first, the
/// forced category prefix <c>unsafe \n S</c>, the category-number tokens and the stop tokens. Built once when the model
/// loads; a tokenizer that does not encode one of them as the expected single tokens is rejected there with a
/// <see cref="TokenizerFormatException"/> naming the text, instead of yielding silently wrong probabilities later.
/// Immutable.
/// </summary>
internal sealed class VerdictTokens
{
    private readonly Llama3Tokenizer _tokenizer;
    private readonly HashSet<int> _stop;

    private VerdictTokens(Llama3Tokenizer tokenizer, int safe, int @unsafe, int doubleNewline, int[] categoryPrefix, int[] stop)
    {
        _tokenizer = tokenizer;
        Safe = safe;
        Unsafe = @unsafe;
        DoubleNewline = doubleNewline;
        CategoryPrefix = categoryPrefix;
        StopTokens = stop;
        _stop = [.. stop];
    }

    /// <summary>The token <c>safe</c>: the first verdict token of a safe answer.</summary>
    public int Safe { get; }

    /// <summary>The token <c>unsafe</c>.</summary>
    public int Unsafe { get; }

    /// <summary>The token <c>\n\n</c>, which the model writes before its verdict in the HF layout.</summary>
    public int DoubleNewline { get; }

    /// <summary><c>unsafe</c>, <c>\n</c>, <c>S</c>: what the category scoring forces at the answer position; the logits
    /// after its last token are the distribution over the category numbers.</summary>
    public IReadOnlyList<int> CategoryPrefix { get; }

    /// <summary>Tokens that end the answer.</summary>
    public IReadOnlyList<int> StopTokens { get; }

    public bool IsStop(int token) => _stop.Contains(token);

    /// <summary>
    /// Resolves and checks every token against <paramref name="tokenizer"/>. The stop tokens are
    /// <paramref name="configuredStops"/> (the checkpoint's <c>eos_token_id</c>) when there are any, else the tokenizer's
    /// <c>&lt;|end_of_text|&gt;</c>, <c>&lt;|eom_id|&gt;</c> and <c>&lt;|eot_id|&gt;</c>.
    /// </summary>
    /// <exception cref="TokenizerFormatException">A verdict text is not one token, a default category number is not one
    /// token, or a stop token is unknown to the tokenizer.</exception>
    public static VerdictTokens Resolve(Llama3Tokenizer tokenizer, IReadOnlyList<int> configuredStops)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(configuredStops);
        int safe = SingleToken(tokenizer, "safe");
        int @unsafe = SingleToken(tokenizer, "unsafe");
        int doubleNewline = SingleToken(tokenizer, "\n\n");
        int[] prefix = [@unsafe, SingleToken(tokenizer, "\n"), SingleToken(tokenizer, "S")];
        if (!tokenizer.Encode("unsafe\nS", recognizeSpecialTokens: false).AsSpan().SequenceEqual(prefix))
        {
            throw Rejected(tokenizer, "'unsafe\\nS' does not encode as the three tokens 'unsafe', '\\n', 'S', as the category scoring expects");
        }
        var tokens = new VerdictTokens(tokenizer, safe, @unsafe, doubleNewline, prefix, ResolveStopTokens(tokenizer, configuredStops));
        foreach (var category in SafetyPolicy.Default.Categories)
        {
            if (tokens.CategoryNumberToken(category) is null)
            {
                throw Rejected(tokenizer, $"the category number of {category.Code} is not a single token");
            }
        }
        return tokens;
    }

    /// <summary>
    /// The stop tokens of greedy decoding: <paramref name="configuredStops"/> when there are any (each must be a token
    /// of <paramref name="tokenizer"/>), else the tokenizer's Llama 3 end-of-text, end-of-message and end-of-turn tokens.
    /// </summary>
    public static int[] ResolveStopTokens(Llama3Tokenizer tokenizer, IReadOnlyList<int> configuredStops)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(configuredStops);
        foreach (int id in configuredStops)
        {
            if (tokenizer.GetTokenText(id) is null)
            {
                throw Rejected(tokenizer, $"the checkpoint's stop token {id} (eos_token_id) is not in the tokenizer's vocabulary");
            }
        }
        if (configuredStops.Count > 0)
        {
            return [.. configuredStops];
        }
        string[] names = [PromptSpecialTokens.EndOfText, PromptSpecialTokens.EndOfMessage, PromptSpecialTokens.EndOfTurn];
        return names.Select(name => tokenizer.TryGetSpecialTokenId(name, out int id)
            ? id
            : throw Rejected(tokenizer, $"the checkpoint names no stop token (eos_token_id) and the tokenizer has no {name}")).ToArray();
    }

    /// <summary>The token the model writes after <c>S</c> for <paramref name="category"/> (<c>1</c> for S1), or null
    /// when its code is not <c>S</c> + text that is one token (such a category gets no probability).</summary>
    public int? CategoryNumberToken(HazardCategory category)
    {
        ArgumentNullException.ThrowIfNull(category);
        if (category.Code.Length < 2 || category.Code[0] is not ('S' or 's'))
        {
            return null;
        }
        int[] ids = _tokenizer.Encode(category.Code[1..], recognizeSpecialTokens: false);
        return ids.Length == 1 ? ids[0] : null;
    }

    private static int SingleToken(Llama3Tokenizer tokenizer, string text)
    {
        int[] ids = tokenizer.Encode(text, recognizeSpecialTokens: false);
        return ids.Length == 1
            ? ids[0]
            : throw Rejected(tokenizer, $"'{text.Replace("\n", "\\n", StringComparison.Ordinal)}' encodes as {ids.Length} tokens, not one; Llama Guard's verdict scoring needs it as a single token");
    }

    private static TokenizerFormatException Rejected(Llama3Tokenizer tokenizer, string problem) =>
        new(tokenizer.SourcePath, "not a Llama Guard 3 tokenizer: " + problem + ".");
}
