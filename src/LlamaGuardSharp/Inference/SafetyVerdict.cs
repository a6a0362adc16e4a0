using System.Text.Json.Serialization;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Inference;

/// <summary>The probability attached to one hazard category (see <see cref="SafetyVerdict.CategoryProbabilities"/>).</summary>
public sealed record CategoryProbability(HazardCategory Category, double Probability);

/// <summary>Where the time of one classification went. JSON: seconds as numbers (<c>timings_s</c>).</summary>
public sealed record ClassificationTimings(
    [property: JsonConverter(typeof(SecondsJsonConverter))] TimeSpan Load,
    [property: JsonConverter(typeof(SecondsJsonConverter))] TimeSpan Preprocess,
    [property: JsonConverter(typeof(SecondsJsonConverter))] TimeSpan Vision,
    [property: JsonConverter(typeof(SecondsJsonConverter))] TimeSpan Prefill,
    [property: JsonConverter(typeof(SecondsJsonConverter))] TimeSpan Decode,
    [property: JsonConverter(typeof(SecondsJsonConverter))] TimeSpan Total);

/// <summary>
/// The result of <see cref="GuardModel.ClassifyAsync"/>. Immutable. Its JSON form (the one contract used by the CLI, the
/// service and the remote client) is generated from this record by <see cref="VerdictJson"/>: a new property appears
/// in it by being added here. Schema: <c>docs/verdict.schema.json</c>.
/// </summary>
/// <param name="Kind">Safe, Unsafe, or Unparseable (the model's text did not follow the Llama Guard grammar; see <see cref="RawOutput"/>).</param>
/// <param name="Task">Prompt classification (last turn User) or response classification (last turn Agent).</param>
/// <param name="ViolatedCategories">For Unsafe: the categories the model listed that the policy contains, in order.</param>
/// <param name="UnknownCodes">For Unsafe: listed codes the policy does not contain (e.g. excluded ones); reported, not dropped.</param>
/// <param name="UnsafeProbability">
/// p(<c>unsafe</c>) at the answer position: softmax over the full vocabulary of the logits where the model emits its
/// verdict token (Meta's scoring method; with the HF layout that is after the <c>\n\n</c> token). Threshold 0.5 for a decision.
/// </param>
/// <param name="SafeProbability">p(<c>safe</c>) at the same position.</param>
/// <param name="CategoryProbabilities">
/// One entry per policy category whose code is <c>S</c> + a number: after forcing <c>unsafe\nS</c> at the answer position,
/// the softmax of the logits of the category-number tokens, renormalised over the policy's categories. It answers
/// "if the model calls this unsafe, which category does it name first?" and sums to 1; it is not a per-category
/// independent probability. Empty when disabled in <see cref="GuardModelOptions"/>.
/// </param>
/// <param name="RawOutput">The generated text, special tokens excluded.</param>
/// <param name="OutputTokenIds">The generated ids, stop token included.</param>
/// <param name="PromptTokenCount">Tokens of the rendered prompt.</param>
/// <param name="Timings">Where the time went.</param>
public sealed record SafetyVerdict(
    [property: JsonPropertyName("verdict"), JsonPropertyOrder(0)] VerdictKind Kind,
    [property: JsonPropertyName("task"), JsonPropertyOrder(2)] ClassificationTask Task,
    [property: JsonPropertyName("categories"), JsonPropertyOrder(3)] IReadOnlyList<HazardCategory> ViolatedCategories,
    [property: JsonPropertyName("unknown_codes"), JsonPropertyOrder(4)] IReadOnlyList<string> UnknownCodes,
    [property: JsonPropertyName("unsafe_probability"), JsonPropertyOrder(5)] double UnsafeProbability,
    [property: JsonPropertyName("safe_probability"), JsonPropertyOrder(6)] double SafeProbability,
    [property: JsonPropertyName("category_probabilities"), JsonPropertyOrder(7), JsonConverter(typeof(CategoryProbabilitiesJsonConverter))]
    IReadOnlyList<CategoryProbability> CategoryProbabilities,
    [property: JsonPropertyName("raw_output"), JsonPropertyOrder(8)] string RawOutput,
    [property: JsonPropertyName("output_ids"), JsonPropertyOrder(9)] IReadOnlyList<int> OutputTokenIds,
    [property: JsonPropertyName("prompt_tokens"), JsonPropertyOrder(10)] int PromptTokenCount,
    [property: JsonPropertyName("timings_s"), JsonPropertyOrder(13)] ClassificationTimings Timings)
{
    [JsonPropertyName("is_safe"), JsonPropertyOrder(1)]
    public bool IsSafe => Kind == VerdictKind.Safe;

    [JsonIgnore]
    public bool IsUnsafe => Kind == VerdictKind.Unsafe;

    /// <summary>Number of generated tokens.</summary>
    [JsonPropertyName("generated_tokens"), JsonPropertyOrder(12)]
    public int GeneratedTokenCount => OutputTokenIds.Count;

    /// <summary>Leading prompt tokens whose keys/values came from the previous classification instead of a forward pass
    /// (<see cref="GuardModelOptions.PromptCacheTokens"/>); 0 when none did.</summary>
    [JsonPropertyName("reused_prompt_tokens"), JsonPropertyOrder(11)]
    public int ReusedPromptTokenCount { get; init; }
}

/// <summary>
/// The two verdicts of one exchange: the prompt (the conversation without its last agent turn) and the response.
/// JSON: <c>{"prompt": verdict, "response": verdict}</c> (<c>classify --both</c>, the service's <c>task: both</c>).
/// </summary>
public sealed record ExchangeVerdicts(
    [property: JsonPropertyName("prompt")] SafetyVerdict Prompt,
    [property: JsonPropertyName("response")] SafetyVerdict Response);
