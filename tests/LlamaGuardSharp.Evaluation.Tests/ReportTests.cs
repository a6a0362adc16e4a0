using System.Text.RegularExpressions;
using LlamaGuardSharp.Evaluation;

namespace LlamaGuardSharp.Evaluation.Tests;

/// <summary>The plots and the HTML report, checked in real headless Chromium.</summary>
public class ReportTests
{
    private static readonly string[] EvaluationPlotNames = ["pr_curve", "roc_curve", "score_histogram", "reliability", "per_category"];

    /// <summary>120 items over both tasks: scores that separate the classes imperfectly, categories S1–S4, some unparseable verdicts.</summary>
    private static EvaluationItem[] SampleItems(int seed, double shift)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, 120).Select(i =>
        {
            bool isUnsafe = i % 3 == 0;
            double p = Math.Clamp((isUnsafe ? 0.55 : 0.3) + shift + (random.NextDouble() - 0.5) * 0.7, 0, 1);
            string code = $"S{1 + i % 4}";
            string verdict = i % 17 == 0 ? EvaluationVerdicts.Unparseable : p >= 0.5 ? EvaluationVerdicts.Unsafe : EvaluationVerdicts.Safe;
            IReadOnlyList<string> predicted = verdict == EvaluationVerdicts.Unsafe ? [i % 5 == 0 ? "S2" : code] : [];
            return new EvaluationItem($"item-{i}", isUnsafe, p, verdict, predicted, isUnsafe ? [code] : [], null, i % 2 == 0 ? "prompt" : "response", 0.5);
        }).ToArray();
    }

    [SkippableFact]
    public async Task The_report_renders_every_plot_in_chromium_and_needs_no_network()
    {
        using var temp = new TempDirectory("report");
        string results = temp.File("results.jsonl");
        await File.WriteAllLinesAsync(results, SampleItems(1, 0).Select(ResultsFile.FormatLine));
        string outDir = Path.Combine(temp.Path, "out");
        var (code, output, error) = await CliProcess.RunInProcessAsync("eval", "--results", results, "--out", outDir, "--bootstrap", "100", "--target-recall", "0.9");
        Assert.True(code == 0, error);
        Assert.Contains("best F1", output);

        foreach (var name in EvaluationPlotNames)
        {
            AssertPng(Path.Combine(outDir, name + ".png"));
            Assert.Contains("<svg", await File.ReadAllTextAsync(Path.Combine(outDir, name + ".svg")));
        }
        string html = await File.ReadAllTextAsync(Path.Combine(outDir, "report.html"));
        AssertSelfContained(html);
        Assert.Contains("recall ≥ 0.9", html);

        string chromium = await HeadlessChromium.RequireAsync();
        string dom = await HeadlessChromium.DumpDomAsync(chromium, Path.Combine(outDir, "report.html"));
        Assert.Contains($"data-plots-rendered=\"{EvaluationPlotNames.Length}\"", dom);
        foreach (var name in EvaluationPlotNames)
        {
            Assert.Matches($"<figure class=\"plot\" data-plot=\"{name}\"><svg", dom);
        }
        Assert.Contains("Per category", dom);
        Assert.Contains("<td>S4</td>", dom);
    }

    [SkippableFact]
    public async Task The_comparison_report_renders_both_overlaid_curves()
    {
        using var temp = new TempDirectory("compare-report");
        string a = temp.File("a.jsonl"), b = temp.File("b.jsonl");
        await File.WriteAllLinesAsync(a, SampleItems(1, 0).Select(ResultsFile.FormatLine));
        await File.WriteAllLinesAsync(b, SampleItems(2, 0.1).Select(ResultsFile.FormatLine));
        string outDir = Path.Combine(temp.Path, "out");
        var (code, output, error) = await CliProcess.RunInProcessAsync("eval", "compare", a, b, "--out", outDir);
        Assert.True(code == 0, error);
        Assert.Contains("McNemar", output);
        string html = await File.ReadAllTextAsync(Path.Combine(outDir, "report.html"));
        AssertSelfContained(html);

        string chromium = await HeadlessChromium.RequireAsync();
        string dom = await HeadlessChromium.DumpDomAsync(chromium, Path.Combine(outDir, "report.html"));
        Assert.Contains("data-plots-rendered=\"2\"", dom);
        Assert.Contains("data-plot=\"compare_pr_curve\"", dom);
        Assert.Contains("data-plot=\"compare_roc_curve\"", dom);
    }

    [Fact]
    public void Inline_svgs_get_distinct_ids_and_a_view_box()
    {
        const string svg = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"480\"><clipPath id=\"cl_1\"/><g clip-path=\"url(#cl_1)\"/><use href=\"#cl_1\"/></svg>";
        string inline = HtmlReport.InlineSvg(svg, "p3-");
        Assert.StartsWith("<svg viewBox=\"0 0 720 480\" ", inline);
        Assert.Contains("id=\"p3-cl_1\"", inline);
        Assert.Contains("url(#p3-cl_1)", inline);
        Assert.Contains("href=\"#p3-cl_1\"", inline);
        Assert.DoesNotContain("<?xml", inline);
    }

    private static void AssertPng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 2000, $"{path} is only {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
    }

    /// <summary>Nothing in the page is fetched: no external scripts, styles, images, fonts or frames.</summary>
    private static void AssertSelfContained(string html)
    {
        Assert.DoesNotMatch(new Regex(@"\bsrc\s*=", RegexOptions.IgnoreCase), html);
        Assert.DoesNotMatch(new Regex(@"<link\b|@import|url\(\s*['""]?(https?:|//)", RegexOptions.IgnoreCase), html);
        Assert.DoesNotMatch(new Regex(@"href\s*=\s*""(https?:|//)", RegexOptions.IgnoreCase), html);
        Assert.NotEmpty(Regex.Matches(html, "<figure class=\"plot\""));
    }
}
