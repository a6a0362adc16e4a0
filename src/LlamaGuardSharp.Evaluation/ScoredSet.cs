namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// Scores and labels ordered by descending score, with each run of equal scores (a tie group) reduced to one row of
/// cumulative counts: the row for distinct score t holds the positives and negatives scored ≥ t. This is the basis of
/// the PR and ROC curves (as scikit-learn's <c>_binary_clf_curve</c>: tied scores enter a curve together, so their
/// order in the input never matters), the threshold sweep and the bootstrap.
/// </summary>
internal sealed class ScoredSet
{
    private ScoredSet(double[] thresholds, double[] cumulativePositives, double[] cumulativeNegatives, double positives, double negatives)
    {
        Thresholds = thresholds;
        CumulativePositives = cumulativePositives;
        CumulativeNegatives = cumulativeNegatives;
        Positives = positives;
        Negatives = negatives;
    }

    /// <summary>The distinct scores, descending.</summary>
    public double[] Thresholds { get; }

    /// <summary>Weighted positives scored ≥ <see cref="Thresholds"/>[i].</summary>
    public double[] CumulativePositives { get; }

    /// <summary>Weighted negatives scored ≥ <see cref="Thresholds"/>[i].</summary>
    public double[] CumulativeNegatives { get; }

    public double Positives { get; }

    public double Negatives { get; }

    /// <summary>The set of <paramref name="scores"/> with <paramref name="labels"/> (true = positive).</summary>
    public static ScoredSet Create(IReadOnlyList<double> scores, IReadOnlyList<bool> labels)
    {
        var order = DescendingOrder(scores);
        return FromOrder(order, scores, labels, weights: null);
    }

    /// <summary>Item indices sorted by descending score (stable).</summary>
    public static int[] DescendingOrder(IReadOnlyList<double> scores)
    {
        var order = Enumerable.Range(0, scores.Count).ToArray();
        Array.Sort(order, (a, b) => scores[b].CompareTo(scores[a]) is var c && c != 0 ? c : a.CompareTo(b));
        return order;
    }

    /// <summary>
    /// The set in a precomputed descending <paramref name="order"/>, each item counted <paramref name="weights"/>[i]
    /// times (a bootstrap resample; null = once). Items of weight 0 are absent, so a tie group may vanish.
    /// </summary>
    public static ScoredSet FromOrder(int[] order, IReadOnlyList<double> scores, IReadOnlyList<bool> labels, int[]? weights)
    {
        var thresholds = new List<double>();
        var tps = new List<double>();
        var fps = new List<double>();
        double tp = 0, fp = 0;
        for (int k = 0; k < order.Length; k++)
        {
            int i = order[k];
            int w = weights?[i] ?? 1;
            if (w == 0)
            {
                continue;
            }
            if (labels[i]) tp += w; else fp += w;
            // Close the group at the last item of a run of equal scores (skipping absent items).
            int next = k + 1;
            while (weights is not null && next < order.Length && weights[order[next]] == 0)
            {
                next++;
            }
            if (next == order.Length || scores[order[next]] != scores[i])
            {
                thresholds.Add(scores[i]);
                tps.Add(tp);
                fps.Add(fp);
            }
        }
        return new ScoredSet([.. thresholds], [.. tps], [.. fps], tp, fp);
    }

    /// <summary>
    /// Average precision as scikit-learn's <c>average_precision_score</c>: Σₙ (Rₙ − Rₙ₋₁)·Pₙ over the distinct thresholds
    /// in descending order, R₀ = 0. Null without positives (recall undefined).
    /// </summary>
    public double? AveragePrecision()
    {
        if (Positives == 0)
        {
            return null;
        }
        double ap = 0, previousRecall = 0;
        for (int n = 0; n < Thresholds.Length; n++)
        {
            double recall = CumulativePositives[n] / Positives;
            double precision = CumulativePositives[n] / (CumulativePositives[n] + CumulativeNegatives[n]);
            ap += (recall - previousRecall) * precision;
            previousRecall = recall;
        }
        return ap;
    }

    /// <summary>
    /// ROC AUC by the trapezoidal rule over the points (0, 0), (FPRₙ, TPRₙ) for each distinct threshold (a tie group is
    /// one diagonal step, as scikit-learn's <c>roc_curve</c>). Null unless both classes occur.
    /// </summary>
    public double? RocAuc()
    {
        if (Positives == 0 || Negatives == 0)
        {
            return null;
        }
        double area = 0, x0 = 0, y0 = 0;
        for (int n = 0; n < Thresholds.Length; n++)
        {
            double x1 = CumulativeNegatives[n] / Negatives, y1 = CumulativePositives[n] / Positives;
            area += (x1 - x0) * (y0 + y1) / 2;
            x0 = x1;
            y0 = y1;
        }
        return area;
    }

    /// <summary>The decision at each distinct threshold, descending (the sweep).</summary>
    public IReadOnlyList<ThresholdPoint> Points()
    {
        var points = new ThresholdPoint[Thresholds.Length];
        for (int n = 0; n < points.Length; n++)
        {
            long tp = (long)CumulativePositives[n], fp = (long)CumulativeNegatives[n];
            points[n] = new ThresholdPoint(Thresholds[n], new ConfusionMatrix(tp, fp, (long)Negatives - fp, (long)Positives - tp));
        }
        return points;
    }

    /// <summary>The confusion matrix of "unsafe when score ≥ <paramref name="threshold"/>".</summary>
    public ConfusionMatrix At(double threshold)
    {
        // The last distinct score ≥ threshold holds the counts at or above it (Thresholds is descending).
        int lo = 0, hi = Thresholds.Length; // first index whose score < threshold
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (Thresholds[mid] >= threshold) lo = mid + 1; else hi = mid;
        }
        double tp = lo == 0 ? 0 : CumulativePositives[lo - 1], fp = lo == 0 ? 0 : CumulativeNegatives[lo - 1];
        return new ConfusionMatrix((long)tp, (long)fp, (long)(Negatives - fp), (long)(Positives - tp));
    }
}
