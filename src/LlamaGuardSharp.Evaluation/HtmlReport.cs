using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// <c>report.html</c>: one self-contained file (inline CSS and SVG, no network, no external files) with the tables and
/// plots of an evaluation or a comparison. Each plot is a <c>&lt;figure class="plot" data-plot="NAME"&gt;</c> holding its
/// SVG; a small inline script marks <c>&lt;body data-plots-rendered="N"&gt;</c> with the number of plots the browser laid
/// out with a non-empty size, which the headless-browser test reads back.
/// </summary>
public static partial class HtmlReport
{
    private static readonly double[] GridThresholds = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];

    /// <summary>The report of an evaluation of <paramref name="source"/>.</summary>
    public static string Render(string source, EvaluationMetrics metrics, IReadOnlyList<RenderedPlot> plots, DateTimeOffset generated)
    {
        var scopes = new List<(string Name, TaskMetrics Metrics)> { ("all", metrics.All) };
        scopes.AddRange(metrics.ByTask.Select(kv => (kv.Key, kv.Value)));
        var html = new StringBuilder();
        Begin(html, "Llama Guard evaluation", $"{Encode(source)} · {metrics.All.Count} items · generated {generated.UtcDateTime:yyyy-MM-dd HH:mm} UTC");

        html.Append("<h2>At threshold ").Append(Num(metrics.Options.Threshold)).Append(" on p(unsafe)</h2>\n");
        html.Append("<p>Unsafe when p(unsafe) ≥ threshold. Brackets: bootstrap 95 % interval")
            .Append(metrics.All.Intervals is { } ci ? $" ({ci.Resamples} resamples, seed {ci.Seed})" : " (off)")
            .Append(". — means undefined (0/0).</p>\n");
        MatrixTable(html, scopes.Select(s => (s.Name, s.Metrics, (ConfusionMatrix?)s.Metrics.AtThreshold)), withRanking: true);

        html.Append("<h2>Greedy verdict</h2>\n<p>The generated verdict; unparseable verdicts count as unsafe (fail closed).</p>\n");
        if (metrics.All.Verdict is null)
        {
            html.Append("<p>Not every result has a verdict.</p>\n");
        }
        else
        {
            MatrixTable(html, scopes.Select(s => (s.Name, s.Metrics, s.Metrics.Verdict)), withRanking: false);
        }

        html.Append("<h2>Threshold calibration</h2>\n<table><thead><tr><th>items</th><th>choice</th><th>threshold</th><th>precision</th><th>recall</th><th>F1</th><th>FPR</th></tr></thead><tbody>\n");
        foreach (var (name, m) in scopes)
        {
            ChoiceRow(html, name, "best F1", m.Sweep.BestF1);
            if (m.Sweep.TargetFalsePositiveRate is { } fpr) ChoiceRow(html, name, $"FPR ≤ {Num(fpr)}", m.Sweep.AtTargetFalsePositiveRate);
            if (m.Sweep.TargetRecall is { } recall) ChoiceRow(html, name, $"recall ≥ {Num(recall)}", m.Sweep.AtTargetRecall);
        }
        html.Append("</tbody></table>\n<h3>Sweep (all items)</h3>\n<table><thead><tr><th>threshold</th><th>TP</th><th>FP</th><th>TN</th><th>FN</th><th>precision</th><th>recall</th><th>F1</th><th>FPR</th></tr></thead><tbody>\n");
        foreach (double t in GridThresholds)
        {
            var matrix = ConfusionMatrix.From(metrics.All.Scores.Select((p, i) => (metrics.All.Labels[i], p >= t)));
            html.Append("<tr><td>").Append(Num(t)).Append("</td>").Append(Counts(matrix))
                .Append(Cell(matrix.Precision)).Append(Cell(matrix.Recall)).Append(Cell(matrix.F1)).Append(Cell(matrix.FalsePositiveRate)).Append("</tr>\n");
        }
        html.Append("</tbody></table>\n");

        html.Append("<h2>Calibration</h2>\n<p>Expected calibration error ").Append(Num(metrics.All.Calibration.ExpectedCalibrationError))
            .Append(", Brier score ").Append(Num(metrics.All.Calibration.BrierScore)).Append(".</p>\n")
            .Append("<table><thead><tr><th>bin</th><th>items</th><th>mean p(unsafe)</th><th>fraction unsafe</th></tr></thead><tbody>\n");
        foreach (var bin in metrics.All.Calibration.Bins)
        {
            html.Append("<tr><td>[").Append(Num(bin.Lower)).Append(", ").Append(Num(bin.Upper)).Append(bin.Upper >= 1 ? "]" : ")").Append("</td><td>")
                .Append(bin.Count).Append("</td>").Append(Cell(bin.MeanProbability)).Append(Cell(bin.FractionUnsafe)).Append("</tr>\n");
        }
        html.Append("</tbody></table>\n");

        html.Append("<h2>Per category</h2>\n<p>One-vs-rest over the ").Append(metrics.All.CategoryItems)
            .Append(" items whose true and predicted category sets are known (a safe item's true set is empty).</p>\n");
        html.Append("<table><thead><tr><th>category</th><th>support</th><th>predicted</th><th>precision</th><th>recall</th><th>F1</th></tr></thead><tbody>\n");
        foreach (var c in metrics.All.PerCategory)
        {
            html.Append("<tr><td>").Append(Encode(c.Code)).Append("</td><td>").Append(c.Support).Append("</td><td>").Append(c.Predicted).Append("</td>")
                .Append(Cell(c.Precision)).Append(Cell(c.Recall)).Append(Cell(c.F1)).Append("</tr>\n");
        }
        html.Append("</tbody></table>\n");
        Plots(html, plots);
        End(html);
        return html.ToString();
    }

    /// <summary>The report of a comparison.</summary>
    public static string Render(RunComparison comparison, IReadOnlyList<RenderedPlot> plots, DateTimeOffset generated)
    {
        var html = new StringBuilder();
        Begin(html, "Llama Guard comparison", $"A = {Encode(comparison.NameA)} · B = {Encode(comparison.NameB)} · generated {generated.UtcDateTime:yyyy-MM-dd HH:mm} UTC");
        html.Append("<h2>Agreement at threshold ").Append(Num(comparison.Threshold)).Append("</h2>\n<table><tbody>\n")
            .Append("<tr><th>items in both</th><td>").Append(comparison.Common).Append("</td></tr>\n")
            .Append("<tr><th>only in A / only in B</th><td>").Append(comparison.OnlyInA.Count).Append(" / ").Append(comparison.OnlyInB.Count).Append("</td></tr>\n")
            .Append("<tr><th>label conflicts (left out)</th><td>").Append(comparison.LabelConflicts.Count).Append("</td></tr>\n")
            .Append("<tr><th>agreement</th>").Append(Cell(comparison.Agreement)).Append("</tr>\n")
            .Append("<tr><th>safe in A → unsafe in B</th><td>").Append(comparison.SafeToUnsafe.Count).Append("</td></tr>\n")
            .Append("<tr><th>unsafe in A → safe in B</th><td>").Append(comparison.UnsafeToSafe.Count).Append("</td></tr>\n")
            .Append("<tr><th>mean / max |Δ p(unsafe)|</th><td>").Append(Num(comparison.MeanAbsoluteProbabilityDifference)).Append(" / ")
            .Append(Num(comparison.MaxAbsoluteProbabilityDifference)).Append("</td></tr>\n")
            .Append("<tr><th>McNemar (").Append(comparison.McNemar.Method).Append(")</th><td>only A correct ").Append(comparison.McNemar.OnlyACorrect)
            .Append(", only B correct ").Append(comparison.McNemar.OnlyBCorrect).Append(", p = ").Append(comparison.McNemar.PValue.ToString("G4", CultureInfo.InvariantCulture)).Append("</td></tr>\n")
            .Append("</tbody></table>\n");
        html.Append("<h2>Metrics</h2>\n<table><thead><tr><th>metric</th><th>A</th><th>B</th><th>B − A</th></tr></thead><tbody>\n");
        foreach (var pair in comparison.MetricPairs())
        {
            html.Append("<tr><td>").Append(pair.Name).Append("</td>").Append(Cell(pair.A)).Append(Cell(pair.B)).Append(Cell(pair.Delta)).Append("</tr>\n");
        }
        html.Append("</tbody></table>\n");
        FlipList(html, "Safe in A, unsafe in B", comparison.SafeToUnsafe);
        FlipList(html, "Unsafe in A, safe in B", comparison.UnsafeToSafe);
        Plots(html, plots);
        End(html);
        return html.ToString();
    }

    private static void FlipList(StringBuilder html, string title, IReadOnlyList<string> ids)
    {
        const int shown = 200;
        html.Append("<h3>").Append(title).Append(" (").Append(ids.Count).Append(")</h3>\n<p class=\"ids\">")
            .Append(ids.Count == 0 ? "none" : string.Join(", ", ids.Take(shown).Select(Encode)))
            .Append(ids.Count > shown ? $" … and {ids.Count - shown} more (all in compare.json)" : "").Append("</p>\n");
    }

    private static void MatrixTable(StringBuilder html, IEnumerable<(string Name, TaskMetrics Metrics, ConfusionMatrix? Matrix)> rows, bool withRanking)
    {
        html.Append("<table><thead><tr><th>items</th><th>count</th><th>unsafe</th><th>TP</th><th>FP</th><th>TN</th><th>FN</th><th>precision</th><th>recall</th><th>F1</th><th>FPR</th><th>accuracy</th>");
        html.Append(withRanking ? "<th>AUPRC</th><th>ROC AUC</th>" : "<th>unparseable</th>").Append("</tr></thead><tbody>\n");
        foreach (var (name, m, matrix) in rows)
        {
            if (matrix is null)
            {
                continue;
            }
            var ci = withRanking ? m.Intervals : null;
            html.Append("<tr><td>").Append(Encode(name)).Append("</td><td>").Append(m.Count).Append("</td><td>").Append(m.Positives).Append("</td>")
                .Append(Counts(matrix))
                .Append(Cell(matrix.Precision, ci?.Precision)).Append(Cell(matrix.Recall, ci?.Recall)).Append(Cell(matrix.F1, ci?.F1))
                .Append(Cell(matrix.FalsePositiveRate, ci?.FalsePositiveRate)).Append(Cell(matrix.Accuracy, ci?.Accuracy));
            html.Append(withRanking ? Cell(m.Auprc, ci?.Auprc) + Cell(m.RocAuc, ci?.RocAuc) : $"<td>{m.Unparseable}</td>").Append("</tr>\n");
        }
        html.Append("</tbody></table>\n");
    }

    private static void ChoiceRow(StringBuilder html, string scope, string choice, ThresholdPoint? point)
    {
        html.Append("<tr><td>").Append(Encode(scope)).Append("</td><td>").Append(Encode(choice)).Append("</td>");
        if (point is null)
        {
            html.Append("<td colspan=\"5\">not reachable</td></tr>\n");
            return;
        }
        html.Append("<td>").Append(point.Threshold.ToString("G6", CultureInfo.InvariantCulture)).Append("</td>")
            .Append(Cell(point.Matrix.Precision)).Append(Cell(point.Matrix.Recall)).Append(Cell(point.Matrix.F1)).Append(Cell(point.Matrix.FalsePositiveRate)).Append("</tr>\n");
    }

    private static void Plots(StringBuilder html, IReadOnlyList<RenderedPlot> plots)
    {
        html.Append("<h2>Plots</h2>\n<div class=\"plots\">\n");
        for (int i = 0; i < plots.Count; i++)
        {
            html.Append("<figure class=\"plot\" data-plot=\"").Append(Encode(plots[i].Name)).Append("\">")
                .Append(InlineSvg(plots[i].Svg, $"p{i}-"))
                .Append("<figcaption>").Append(Encode(plots[i].Title)).Append(" (").Append(Encode(plots[i].Name)).Append(".png, .svg)</figcaption></figure>\n");
        }
        html.Append("</div>\n");
    }

    /// <summary>
    /// An SVG document as an inline element: without its XML declaration, and with every id (and reference to one)
    /// prefixed, because several plots in one page would otherwise share clip-path ids and clip each other.
    /// </summary>
    internal static string InlineSvg(string svg, string idPrefix)
    {
        svg = XmlDeclaration().Replace(svg, "");
        // A fixed-size SVG without a viewBox would be cropped, not scaled, when the page makes it narrower.
        svg = SvgSize().Replace(svg, m => m.Value.Contains("viewBox", StringComparison.Ordinal)
            ? m.Value
            : m.Value.Replace("<svg ", $"<svg viewBox=\"0 0 {m.Groups[1].Value} {m.Groups[2].Value}\" ", StringComparison.Ordinal), 1);
        svg = IdAttribute().Replace(svg, m => $"id=\"{idPrefix}{m.Groups[1].Value}\"");
        svg = UrlReference().Replace(svg, m => $"url(#{idPrefix}{m.Groups[1].Value})");
        svg = HrefReference().Replace(svg, m => $"{m.Groups[1].Value}=\"#{idPrefix}{m.Groups[2].Value}\"");
        return svg.Trim();
    }

    [GeneratedRegex(@"<\?xml[^>]*\?>")]
    private static partial Regex XmlDeclaration();

    [GeneratedRegex("<svg [^>]*\\bwidth=\"([0-9.]+)\"[^>]*\\bheight=\"([0-9.]+)\"[^>]*>")]
    private static partial Regex SvgSize();

    [GeneratedRegex("\\bid=\"([^\"]+)\"")]
    private static partial Regex IdAttribute();

    [GeneratedRegex(@"url\(#([^)]+)\)")]
    private static partial Regex UrlReference();

    [GeneratedRegex("((?:xlink:)?href)=\"#([^\"]+)\"")]
    private static partial Regex HrefReference();

    private static void Begin(StringBuilder html, string title, string subtitle)
    {
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").Append(Encode(title)).Append("</title>\n<style>\n")
            .Append("body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}\n")
            .Append("h1{margin-bottom:.2rem}.sub{color:#666;margin-top:0}h2{margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}\n")
            .Append("table{border-collapse:collapse;margin:.5rem 0;font-variant-numeric:tabular-nums}th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}\n")
            .Append("th{background:#f4f4f4}td{white-space:nowrap}td:first-child,th:first-child{text-align:left}.ci{color:#777;font-size:.85em}\n")
            .Append(".plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1rem}figure{margin:0}figure svg{width:100%;height:auto;border:1px solid #eee}\n")
            .Append("figcaption{color:#555;font-size:.9em;text-align:center}.ids{font-family:monospace;word-break:break-all}\n")
            .Append("</style>\n</head>\n<body>\n<h1>").Append(Encode(title)).Append("</h1>\n<p class=\"sub\">").Append(subtitle).Append("</p>\n");
    }

    private static void End(StringBuilder html)
    {
        // Counts the plots the browser laid out with a non-empty box; the headless-browser test reads the attribute.
        html.Append("<script>\nwindow.addEventListener('load',function(){var n=0;document.querySelectorAll('figure.plot svg').forEach(function(s){var r=s.getBoundingClientRect();")
            .Append("if(r.width>0&&r.height>0&&s.querySelectorAll('*').length>10){n++;}});document.body.setAttribute('data-plots-rendered',String(n));});\n</script>\n")
            .Append("</body>\n</html>\n");
    }

    private static string Counts(ConfusionMatrix m) =>
        $"<td>{m.TruePositives}</td><td>{m.FalsePositives}</td><td>{m.TrueNegatives}</td><td>{m.FalseNegatives}</td>";

    private static string Cell(double? value, ConfidenceInterval? interval = null) =>
        "<td>" + Num(value) + (interval is null ? "" : $"<br><span class=\"ci\">[{Num(interval.Lower)}, {Num(interval.Upper)}]</span>") + "</td>";

    private static string Num(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "—";

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
