namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// One hazard category, one-vs-rest over the items whose true and predicted category sets are both known: TP = the
/// code is in both sets, FP = predicted only, FN = true only. <see cref="Support"/> = TP + FN (items truly in the
/// category); <see cref="Predicted"/> = TP + FP.
/// </summary>
public sealed record CategoryScore(string Code, long TruePositives, long FalsePositives, long FalseNegatives)
{
    /// <summary>Items truly in the category.</summary>
    public long Support => TruePositives + FalseNegatives;

    /// <summary>Items the verdict put in the category.</summary>
    public long Predicted => TruePositives + FalsePositives;

    /// <summary>TP / (TP + FP); null when the category was never predicted.</summary>
    public double? Precision => ConfusionMatrix.Ratio(TruePositives, TruePositives + FalsePositives);

    /// <summary>TP / (TP + FN); null without support.</summary>
    public double? Recall => ConfusionMatrix.Ratio(TruePositives, TruePositives + FalseNegatives);

    /// <summary>2·TP / (2·TP + FP + FN); null when the category occurs in neither set.</summary>
    public double? F1 => ConfusionMatrix.Ratio(2 * TruePositives, 2 * TruePositives + FalsePositives + FalseNegatives);

    /// <summary>
    /// Per-category scores over <paramref name="items"/>, keyed and ordered by code (S1, S2, …, S10 numerically). Items
    /// without a known true set (<see cref="EvaluationItem.KnownTrueCategories"/>) or predicted set take no part.
    /// </summary>
    public static IReadOnlyList<CategoryScore> Compute(IEnumerable<EvaluationItem> items, out int participating)
    {
        var tp = new Dictionary<string, long>(StringComparer.Ordinal);
        var fp = new Dictionary<string, long>(StringComparer.Ordinal);
        var fn = new Dictionary<string, long>(StringComparer.Ordinal);
        participating = 0;
        foreach (var item in items)
        {
            if (item.KnownTrueCategories is not { } truth || item.PredictedCategories is not { } predicted)
            {
                continue;
            }
            participating++;
            var trueSet = truth.ToHashSet(StringComparer.Ordinal);
            var predictedSet = predicted.ToHashSet(StringComparer.Ordinal);
            foreach (var code in trueSet.Union(predictedSet))
            {
                var counter = (trueSet.Contains(code), predictedSet.Contains(code)) switch
                {
                    (true, true) => tp,
                    (false, true) => fp,
                    _ => fn,
                };
                counter[code] = counter.GetValueOrDefault(code) + 1;
            }
        }
        return tp.Keys.Union(fp.Keys).Union(fn.Keys)
            .Order(CategoryCodeComparer.Instance)
            .Select(code => new CategoryScore(code, tp.GetValueOrDefault(code), fp.GetValueOrDefault(code), fn.GetValueOrDefault(code)))
            .ToArray();
    }
}

/// <summary>Orders category codes as people read them: S2 before S10 (letters, then the number), others ordinally.</summary>
internal sealed class CategoryCodeComparer : IComparer<string>
{
    /// <summary>The one instance.</summary>
    public static CategoryCodeComparer Instance { get; } = new();

    /// <inheritdoc />
    public int Compare(string? x, string? y)
    {
        var (px, nx) = Split(x ?? "");
        var (py, ny) = Split(y ?? "");
        int c = string.CompareOrdinal(px, py);
        if (c != 0) return c;
        c = nx.CompareTo(ny);
        return c != 0 ? c : string.CompareOrdinal(x, y);
    }

    private static (string Prefix, long Number) Split(string code)
    {
        int digits = code.Length;
        while (digits > 0 && char.IsAsciiDigit(code[digits - 1])) digits--;
        return digits < code.Length && code.Length - digits <= 18 ? (code[..digits], long.Parse(code[digits..], System.Globalization.CultureInfo.InvariantCulture)) : (code, -1);
    }
}
