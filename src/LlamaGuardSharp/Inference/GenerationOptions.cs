namespace LlamaGuardSharp.Inference;

/// <summary>Greedy decoding settings.</summary>
/// <param name="MaxNewTokens">Upper bound on generated tokens (stop tokens included).</param>
/// <param name="StopTokenIds">Tokens that end generation; null = <see cref="Model.MllamaModel.StopTokenIds"/> (generation_config.json / config.json eos ids, which may be none: then only MaxNewTokens ends generation; callers in the library pass <see cref="VerdictTokens.ResolveStopTokens"/>).</param>
internal sealed record GenerationOptions(int MaxNewTokens = GuardModelOptions.DefaultMaxNewTokens, IReadOnlyList<int>? StopTokenIds = null)
{
    public static GenerationOptions Default { get; } = new();
}

/// <summary>Why generation ended.</summary>
internal enum StopReason
{
    /// <summary>A stop token was generated (it is the last output id).</summary>
    StopToken,

    /// <summary><see cref="GenerationOptions.MaxNewTokens"/> tokens were generated.</summary>
    MaxNewTokens,
}

/// <summary>Wall-clock time spent per stage.</summary>
internal sealed record GenerationTimings(TimeSpan Vision, TimeSpan Prefill, TimeSpan Decode)
{
    public TimeSpan Total => Vision + Prefill + Decode;
}

/// <summary>The outcome of <see cref="Generator.Generate"/>.</summary>
/// <param name="OutputIds">Generated tokens, the stop token included when one ended generation.</param>
/// <param name="FirstStepLogits">Logits (full vocabulary) of the last prompt position, from which the first token was chosen.</param>
internal sealed record GenerationResult(IReadOnlyList<int> OutputIds, StopReason StopReason, float[] FirstStepLogits, GenerationTimings Timings);
