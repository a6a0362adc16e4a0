using System.Diagnostics;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Prompting;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// One classification, as a sequence of named steps: render and encode the prompt, encode or reuse the image, prefill
/// the prompt with the verdict draft, decode greedily, score, parse, build the verdict. Holds the loaded model and the
/// caches that carry over between classifications; not thread-safe (<see cref="GuardModel"/> serialises calls).
/// </summary>
internal sealed class GuardClassifier(
    MllamaModel model,
    Llama3Tokenizer tokenizer,
    VerdictTokens tokens,
    ImagePreprocessorOptions preprocessing,
    EncodedImageCache imageCache,
    PromptPrefixCache prefixCache,
    GuardModelOptions options,
    TimeSpan loadTime)
{
    private readonly ImageDecoder _decoder = new(options.ImageDecoder);
    private readonly ImagePreprocessor _preprocessor = new(preprocessing);

    /// <summary>The draft every prefill carries: fixed by the verdict tokens and the options, so built once.</summary>
    private readonly VerdictDraft _draft = VerdictDraft.For(tokens, options.Layout, options.ComputeCategoryProbabilities);

    public SafetyVerdict Classify(Conversation conversation, SafetyPolicy policy, CancellationToken cancellationToken)
    {
        var total = Stopwatch.StartNew();
        int[] prompt = RenderAndEncodePrompt(conversation, policy);
        using var image = EncodeOrReuseImage(conversation.Image, prompt, cancellationToken);
        var draft = _draft;
        using var session = new GenerationSession(model, prompt.Length + Math.Max(options.MaxNewTokens, draft.Tree.Count) + tokens.CategoryPrefix.Count + 2);
        // The prompt's leading tokens that an earlier classification already ran (the template's header, as a rule) are
        // copied from its keys/values; only the rest, and the draft, go through the decoder.
        var reused = prefixCache.Find(prompt, image.Key);
        float[][] draftLogits = session.Prefill(prompt, image.Encoded, draft.Tree, reused, cancellationToken);

        var decoding = Stopwatch.StartNew();
        var answer = Decode(session, prompt.Length, draft, draftLogits, cancellationToken);
        var scores = Score(session, policy, draft, draftLogits, answer, cancellationToken);
        var decodeTime = decoding.Elapsed;
        prefixCache.Store(prompt, image.Key, session.Cache);

        var (raw, parsed) = Parse(answer, policy);
        var timings = new ClassificationTimings(loadTime, image.PreprocessTime, image.VisionTime, session.PrefillTime, decodeTime, total.Elapsed);
        return BuildVerdict(conversation, prompt.Length, reused?.Length ?? 0, answer, scores, raw, parsed, timings);
    }

    /// <summary>The Llama Guard prompt of the conversation under the policy, as token ids, within the length limit.</summary>
    private int[] RenderAndEncodePrompt(Conversation conversation, SafetyPolicy policy)
    {
        var rendered = PromptRenderer.RenderSegments(conversation, policy, options.Layout);
        int[] ids = PromptEncoder.Encode(rendered, tokenizer);
        if (ids.Length > options.MaxPromptTokens)
        {
            throw new ModelInputException(
                $"The conversation renders to {ids.Length} prompt tokens, over the limit of {options.MaxPromptTokens} (GuardModelOptions.MaxPromptTokens).");
        }
        return ids;
    }

    /// <summary>
    /// The image's encoding: from the image cache when the same bytes were encoded recently, else decoded, preprocessed,
    /// checked against the prompt's image token and run through the vision side (the cache keeps it when it can).
    /// </summary>
    private PromptImage EncodeOrReuseImage(ConversationImage? image, int[] prompt, CancellationToken cancellationToken)
    {
        if (image is null)
        {
            return PromptImage.None;
        }
        var watch = Stopwatch.StartNew();
        string key = EncodedImageCache.KeyOf(image.EncodedBytes.Span);
        if (imageCache.TryGet(key, out var cached))
        {
            return new PromptImage(cached, key, watch.Elapsed, TimeSpan.Zero, Owned: false);
        }
        var rgb = _decoder.Decode(image.EncodedBytes.Span);
        var input = VisionInput.FromPreprocessed(_preprocessor.Process(rgb));
        var preprocessTime = watch.Elapsed;
        model.BuildCrossAttentionMask(prompt, [input]); // validate the prompt before the expensive vision work
        cancellationToken.ThrowIfCancellationRequested();
        imageCache.MakeRoom(); // a dropped encoding's memory goes back to the pool first, and the new one is written into it
        var encoded = model.EncodeImages([input], cancellationToken);
        bool owned = !imageCache.Add(key, encoded);
        return new PromptImage(encoded, key, preprocessTime, encoded.EncodingTime, owned);
    }

    /// <summary>Greedy decoding from the drafted prefill, up to the answer position at least.</summary>
    private DecodedAnswer Decode(GenerationSession session, int promptLength, VerdictDraft draft, float[][] draftLogits,
        CancellationToken cancellationToken)
    {
        var greedy = DraftedGreedy.Run(session, promptLength, draft.Tree, draftLogits, tokens.StopTokens, options.MaxNewTokens, cancellationToken);
        var (output, stepLogits) = (greedy.Output, greedy.StepLogits);
        // The HF layout ends at the assistant header, so the model first writes "\n\n" and the verdict comes next.
        int answerIndex = output[0] != tokens.DoubleNewline ? 0 : output.Count > 1 ? 1 : -1;
        if (answerIndex < 0)
        {
            // Generation stopped right after "\n\n": take one more step to reach the answer position.
            stepLogits.Add(session.Step(output[^1], cancellationToken));
            answerIndex = output.Count;
        }
        return new DecodedAnswer(output, stepLogits, answerIndex, promptLength + answerIndex);
    }

    /// <summary>Meta's probabilities at the answer position, and the category distribution when wanted.</summary>
    private VerdictScores Score(GenerationSession session, SafetyPolicy policy, VerdictDraft draft, float[][] draftLogits, DecodedAnswer answer,
        CancellationToken cancellationToken)
    {
        var categories = options.ComputeCategoryProbabilities
            ? CategoryProbabilities(session, policy, draft.ForcedLogits(draftLogits, answer), answer, cancellationToken)
            : [];
        return new VerdictScores(
            VerdictScoring.Probability(answer.AnswerLogits, tokens.Unsafe),
            VerdictScoring.Probability(answer.AnswerLogits, tokens.Safe),
            categories);
    }

    /// <summary>
    /// The distribution over the policy's category-number tokens after <c>unsafe\nS</c> at the answer position:
    /// from the drafted prefill (<paramref name="forcedLogits"/>) or the greedy run when they already wrote those tokens
    /// there; otherwise the session rewinds to the answer position and forces them in one pass (the prompt and the image
    /// are not recomputed).
    /// </summary>
    private IReadOnlyList<CategoryProbability> CategoryProbabilities(GenerationSession session, SafetyPolicy policy, float[]? forcedLogits,
        DecodedAnswer answer, CancellationToken cancellationToken)
    {
        var scored = new List<(HazardCategory Category, int Token)>();
        foreach (var category in policy.Categories)
        {
            if (tokens.CategoryNumberToken(category) is int token)
            {
                scored.Add((category, token));
            }
        }
        if (scored.Count == 0)
        {
            return [];
        }
        int[] prefix = [.. tokens.CategoryPrefix];
        float[] logits;
        if (forcedLogits is not null)
        {
            logits = forcedLogits;
        }
        else if (answer.Output.Count > answer.AnswerIndex + prefix.Length && answer.Output.Skip(answer.AnswerIndex).Take(prefix.Length).SequenceEqual(prefix))
        {
            logits = answer.StepLogits[answer.AnswerIndex + prefix.Length];
        }
        else
        {
            // One pass for the whole forced prefix (weights streamed once, not once per token).
            session.Rewind(answer.AnswerPosition);
            logits = session.Extend(prefix, cancellationToken);
        }
        var probabilities = VerdictScoring.RestrictedSoftmax(logits, scored.Select(s => s.Token).ToArray());
        return scored.Select((s, i) => new CategoryProbability(s.Category, probabilities[i])).ToArray();
    }

    /// <summary>The answer's text (stop tokens left out) and its parse under the policy.</summary>
    private (string Raw, ParsedVerdict Parsed) Parse(DecodedAnswer answer, SafetyPolicy policy)
    {
        string raw = tokenizer.Decode(answer.Output.Where(t => !tokens.IsStop(t)).ToArray());
        return (raw, VerdictParser.Parse(raw, policy));
    }

    private static SafetyVerdict BuildVerdict(Conversation conversation, int promptTokens, int reusedTokens, DecodedAnswer answer,
        VerdictScores scores, string raw, ParsedVerdict parsed, ClassificationTimings timings) =>
        new(parsed.Kind, conversation.Task, parsed.Categories, parsed.UnknownCodes, scores.Unsafe, scores.Safe, scores.Categories, raw,
            answer.Output.ToArray(), promptTokens, timings)
        {
            ReusedPromptTokenCount = reusedTokens,
        };

    /// <summary>p(unsafe) and p(safe) at the answer position, and the category probabilities (empty when not computed).</summary>
    private sealed record VerdictScores(double Unsafe, double Safe, IReadOnlyList<CategoryProbability> Categories);
}
