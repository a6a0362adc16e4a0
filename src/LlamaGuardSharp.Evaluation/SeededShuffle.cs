namespace LlamaGuardSharp.Evaluation;

/// <summary>The order in which <c>eval --shuffle --seed S</c> takes the input's items: the same for the same seed.</summary>
public static class SeededShuffle
{
    /// <summary>A Fisher–Yates shuffle of <paramref name="items"/> driven by SplitMix64(<paramref name="seed"/>).</summary>
    public static IReadOnlyList<T> Shuffle<T>(IReadOnlyList<T> items, ulong seed)
    {
        var result = items.ToArray();
        var random = new SplitMix64(seed);
        for (int i = result.Length - 1; i > 0; i--)
        {
            int j = random.NextIndex(i + 1);
            (result[i], result[j]) = (result[j], result[i]);
        }
        return result;
    }
}
