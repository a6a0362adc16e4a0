namespace LlamaGuardSharp.Inference;

/// <summary>What greedy decoding of a classification produced.</summary>
/// <param name="Output">The generated tokens, the stop token included when one ended the answer.</param>
/// <param name="StepLogits">The logits each token was chosen from (StepLogits[i] for Output[i]); one row more when the
/// answer stopped right after its leading "\n\n" and the answer position needed a step of its own.</param>
/// <param name="AnswerIndex">Index of the answer position (where the model writes <c>safe</c>/<c>unsafe</c>): the first
/// output token that is not a leading "\n\n".</param>
/// <param name="AnswerPosition">The answer position in the sequence (prompt length + <paramref name="AnswerIndex"/>).</param>
internal sealed record DecodedAnswer(IReadOnlyList<int> Output, IReadOnlyList<float[]> StepLogits, int AnswerIndex, int AnswerPosition)
{
    /// <summary>The next-token distribution at the answer position: the verdict's logits.</summary>
    public float[] AnswerLogits => StepLogits[AnswerIndex];
}
