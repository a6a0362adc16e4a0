namespace LlamaGuardSharp.Inference;

/// <summary>
/// Probabilities from logits, in double precision (the softmax of 128k logits loses little in float32, but costs nothing
/// more here). A NaN or infinite logit — broken weights or a config whose numbers are out of range — is a
/// <see cref="ModelOutputException"/>, never a probability: a verdict must not rest on <c>p = NaN</c>.
/// </summary>
internal static class VerdictScoring
{
    /// <summary>softmax(<paramref name="logits"/>)[<paramref name="token"/>] over the whole vocabulary.</summary>
    public static double Probability(ReadOnlySpan<float> logits, int token)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(token);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(token, logits.Length);
        double max = double.NegativeInfinity;
        foreach (float z in logits)
        {
            if (!float.IsFinite(z))
            {
                throw ModelOutputException.NonFiniteLogit(z);
            }
            max = Math.Max(max, z);
        }
        double sum = 0;
        foreach (float z in logits)
        {
            sum += Math.Exp(z - max);
        }
        return Math.Exp(logits[token] - max) / sum;
    }

    /// <summary>softmax restricted to <paramref name="tokens"/>: p_i = exp(z[t_i]) / Σ_j exp(z[t_j]).</summary>
    public static double[] RestrictedSoftmax(ReadOnlySpan<float> logits, IReadOnlyList<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Count == 0)
        {
            return [];
        }
        double max = double.NegativeInfinity;
        foreach (int t in tokens)
        {
            if (!float.IsFinite(logits[t]))
            {
                throw ModelOutputException.NonFiniteLogit(logits[t]);
            }
            max = Math.Max(max, logits[t]);
        }
        var result = new double[tokens.Count];
        double sum = 0;
        for (int i = 0; i < tokens.Count; i++)
        {
            result[i] = Math.Exp(logits[tokens[i]] - max);
            sum += result[i];
        }
        for (int i = 0; i < result.Length; i++)
        {
            result[i] /= sum;
        }
        return result;
    }
}
