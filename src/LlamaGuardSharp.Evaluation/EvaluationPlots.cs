using ScottPlot;

namespace LlamaGuardSharp.Evaluation;

/// <summary>A rendered plot: its file stem (e.g. <c>pr_curve</c>), title, and SVG markup for the HTML report.</summary>
public sealed record RenderedPlot(string Name, string Title, string Svg);

/// <summary>
/// The evaluation's plots (ScottPlot 5), each saved as <c>NAME.png</c> and <c>NAME.svg</c>: the PR curve, the ROC curve,
/// p(unsafe) histograms by label, the reliability diagram and per-category precision/recall/F1 bars; for a comparison,
/// the two runs' PR and ROC curves overlaid.
/// </summary>
public static class EvaluationPlots
{
    private const int Width = 720, Height = 480;

    /// <summary>One colour per scope (all, prompt, response; or A, B), the same in the PR and the ROC plot.</summary>
    private static readonly IPalette ScopeColors = new ScottPlot.Palettes.Category10();

    /// <summary>
    /// A sans-serif family that is installed: ScottPlot's default name resolves to a serif fallback on Linux machines
    /// without its preferred font. The SVGs name the family, so the browser draws them with the same one.
    /// </summary>
    private static readonly string SansFont = PickSansFont();

    private static string PickSansFont()
    {
        var installed = SkiaSharp.SKFontManager.Default.GetFontFamilies().ToHashSet(StringComparer.OrdinalIgnoreCase);
        string[] preferred = ["DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "Open Sans"];
        return preferred.FirstOrDefault(installed.Contains) ?? Fonts.Sans;
    }

    /// <summary>Writes the plots of <paramref name="metrics"/> into <paramref name="directory"/> and returns their SVGs.</summary>
    public static IReadOnlyList<RenderedPlot> Write(EvaluationMetrics metrics, string directory)
    {
        var scopes = new List<(string Name, TaskMetrics Metrics)> { ("all", metrics.All) };
        scopes.AddRange(metrics.ByTask.Select(kv => (kv.Key, kv.Value)));
        var plots = new List<RenderedPlot>
        {
            Save(directory, "pr_curve", "Precision–recall curve", PrecisionRecall(scopes)),
            Save(directory, "roc_curve", "ROC curve", Roc(scopes)),
            Save(directory, "score_histogram", "p(unsafe) by label", Histogram(metrics.All)),
            Save(directory, "reliability", "Reliability diagram", Reliability(metrics.All)),
            Save(directory, "per_category", "Per-category precision, recall and F1", PerCategory(metrics.All)),
        };
        return plots;
    }

    /// <summary>Writes the overlaid PR and ROC curves of a comparison into <paramref name="directory"/>.</summary>
    public static IReadOnlyList<RenderedPlot> Write(RunComparison comparison, string directory)
    {
        var scopes = new List<(string Name, TaskMetrics Metrics)> { ("A: " + comparison.NameA, comparison.MetricsA), ("B: " + comparison.NameB, comparison.MetricsB) };
        return
        [
            Save(directory, "compare_pr_curve", "Precision–recall curves", PrecisionRecall(scopes)),
            Save(directory, "compare_roc_curve", "ROC curves", Roc(scopes)),
        ];
    }

    private static RenderedPlot Save(string directory, string name, string title, Plot plot)
    {
        using var owned = plot;
        plot.Title(title);
        plot.Font.Set(SansFont);
        plot.SavePng(Path.Combine(directory, name + ".png"), Width, Height);
        string svg = plot.GetSvgXml(Width, Height);
        File.WriteAllText(Path.Combine(directory, name + ".svg"), svg);
        return new RenderedPlot(name, title, svg);
    }

    private static Plot PrecisionRecall(IReadOnlyList<(string Name, TaskMetrics Metrics)> scopes)
    {
        var plot = new Plot();
        for (int scope = 0; scope < scopes.Count; scope++)
        {
            var (name, m) = scopes[scope];
            var points = m.Curves.PrecisionRecall;
            if (points.Count == 0)
            {
                continue;
            }
            // Average precision is the area under the step function whose height on (Rₙ₋₁, Rₙ] is Pₙ: from each point,
            // go vertically to the next precision, then horizontally to the next recall.
            var xs = new List<double> { points[0].X };
            var ys = new List<double> { points[0].Y };
            for (int i = 1; i < points.Count; i++)
            {
                xs.Add(points[i - 1].X);
                ys.Add(points[i].Y);
                xs.Add(points[i].X);
                ys.Add(points[i].Y);
            }
            var line = plot.Add.Scatter(xs.ToArray(), ys.ToArray());
            line.Color = ScopeColors.GetColor(scope);
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.LegendText = $"{name} (AP {Format(m.Auprc)})";
        }
        Finish(plot, "Recall", "Precision");
        return plot;
    }

    private static Plot Roc(IReadOnlyList<(string Name, TaskMetrics Metrics)> scopes)
    {
        var plot = new Plot();
        var chance = plot.Add.Line(0, 0, 1, 1);
        chance.LinePattern = LinePattern.Dashed;
        chance.Color = Colors.Gray;
        chance.LegendText = "chance";
        for (int scope = 0; scope < scopes.Count; scope++)
        {
            var (name, m) = scopes[scope];
            var points = m.Curves.Roc;
            if (points.Count == 0)
            {
                continue;
            }
            var line = plot.Add.Scatter(points.Select(p => p.X).ToArray(), points.Select(p => p.Y).ToArray());
            line.Color = ScopeColors.GetColor(scope);
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.LegendText = $"{name} (AUC {Format(m.RocAuc)})";
        }
        Finish(plot, "False-positive rate", "True-positive rate (recall)");
        return plot;
    }

    private static Plot Histogram(TaskMetrics m)
    {
        const int bins = 20;
        var plot = new Plot();
        foreach (var (label, isUnsafe, color) in new[] { ("safe", false, Colors.SteelBlue), ("unsafe", true, Colors.OrangeRed) })
        {
            var counts = new double[bins];
            for (int i = 0; i < m.Scores.Count; i++)
            {
                if (m.Labels[i] == isUnsafe)
                {
                    counts[Math.Clamp((int)Math.Floor(m.Scores[i] * bins), 0, bins - 1)]++;
                }
            }
            var bars = plot.Add.Bars(Enumerable.Range(0, bins).Select(b => (b + 0.5) / bins).ToArray(), counts);
            foreach (var bar in bars.Bars)
            {
                bar.Size = 1.0 / bins;
                bar.FillColor = color.WithAlpha(0.55);
                bar.LineWidth = 0;
            }
            bars.LegendText = $"labelled {label} ({counts.Sum():0})";
        }
        var threshold = plot.Add.VerticalLine(m.Threshold);
        threshold.LinePattern = LinePattern.Dashed;
        threshold.Color = Colors.Black;
        threshold.LegendText = $"threshold {m.Threshold:0.###}";
        plot.Axes.SetLimitsX(0, 1);
        plot.Axes.Margins(bottom: 0);
        plot.XLabel("p(unsafe)");
        plot.YLabel("Items");
        plot.ShowLegend(Alignment.UpperCenter);
        return plot;
    }

    private static Plot Reliability(TaskMetrics m)
    {
        var plot = new Plot();
        var diagonal = plot.Add.Line(0, 0, 1, 1);
        diagonal.LinePattern = LinePattern.Dashed;
        diagonal.Color = Colors.Gray;
        diagonal.LegendText = "perfectly calibrated";
        var filled = m.Calibration.Bins.Where(b => b.Count > 0).ToArray();
        if (filled.Length > 0)
        {
            var line = plot.Add.Scatter(filled.Select(b => b.MeanProbability!.Value).ToArray(), filled.Select(b => b.FractionUnsafe!.Value).ToArray());
            line.LineWidth = 2;
            line.MarkerSize = 8;
            line.LegendText = $"bins with items (ECE {Format(m.Calibration.ExpectedCalibrationError)})";
        }
        Finish(plot, "Mean p(unsafe) in bin", "Fraction labelled unsafe");
        return plot;
    }

    private static Plot PerCategory(TaskMetrics m)
    {
        var plot = new Plot();
        var categories = m.PerCategory;
        var series = new (string Name, Func<CategoryScore, double?> Value, Color Color)[]
        {
            ("precision", c => c.Precision, Colors.SteelBlue),
            ("recall", c => c.Recall, Colors.OrangeRed),
            ("F1", c => c.F1, Colors.SeaGreen),
        };
        for (int s = 0; s < series.Length; s++)
        {
            var bars = new List<Bar>();
            for (int c = 0; c < categories.Count; c++)
            {
                bars.Add(new Bar
                {
                    Position = c + (s - 1) * 0.27,
                    Value = series[s].Value(categories[c]) ?? 0,
                    Size = 0.25,
                    FillColor = series[s].Color,
                    LineWidth = 0,
                });
            }
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = series[s].Name;
        }
        var ticks = categories.Select((c, i) => new Tick(i, $"{c.Code}\n(n={c.Support})")).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.Axes.SetLimits(-0.6, Math.Max(categories.Count, 1) - 0.4, 0, 1.05);
        plot.YLabel("Score (missing bar: undefined)");
        plot.XLabel(categories.Count == 0 ? "No category sets in the results" : "Category (support)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    private static void Finish(Plot plot, string x, string y)
    {
        plot.Axes.SetLimits(-0.02, 1.02, -0.02, 1.02);
        plot.XLabel(x);
        plot.YLabel(y);
        plot.ShowLegend(Alignment.LowerRight);
    }

    private static string Format(double? value) => value is { } v ? v.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) : "undefined";
}
