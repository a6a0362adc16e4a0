using System.Text;
using LlamaGuardSharp.Evaluation;

namespace LlamaGuardSharp.Evaluation.Tests;

public class ResultsFileTests
{
    private static readonly EvaluationItem Full = new("a1", true, 0.93, EvaluationVerdicts.Unsafe, ["S1", "S9"], ["S1"],
        new Dictionary<string, double> { ["S1"] = 0.7, ["S9"] = 0.3 }, EvaluationVerdicts.PromptTask, 1.25);

    [Fact]
    public void A_line_has_the_documented_fields_in_order_and_round_trips()
    {
        string line = ResultsFile.FormatLine(Full);
        Assert.Equal("{\"id\":\"a1\",\"label\":\"unsafe\",\"p_unsafe\":0.93,\"verdict\":\"unsafe\",\"predicted_categories\":[\"S1\",\"S9\"],"
            + "\"categories\":[\"S1\"],\"category_probabilities\":{\"S1\":0.7,\"S9\":0.3},\"task\":\"prompt\",\"seconds\":1.25}", line);
        var back = ResultsFile.ParseLine(line);
        Assert.Equal(Full.Id, back.Id);
        Assert.Equal(Full.PredictedCategories, back.PredictedCategories);
        Assert.Equal(Full.Categories, back.Categories);
        Assert.Equal(Full.CategoryProbabilities, back.CategoryProbabilities);
        Assert.Equal((Full.IsUnsafe, Full.UnsafeProbability, Full.Verdict, Full.Task, Full.Seconds), (back.IsUnsafe, back.UnsafeProbability, back.Verdict, back.Task, back.Seconds));
    }

    [Fact]
    public void Another_engines_minimal_lines_are_read()
    {
        var a = ResultsFile.ParseLine("{\"id\": 7, \"label\": 1, \"p_unsafe\": 0.2}");
        Assert.Equal(("7", true, 0.2), (a.Id, a.IsUnsafe, a.UnsafeProbability));
        Assert.Null(a.Verdict);
        Assert.Null(a.PredictedCategories);
        var b = ResultsFile.ParseLine("{\"id\": \"x\", \"label\": false, \"p_unsafe\": 1, \"task\": \"response_classification\"}");
        Assert.Equal((false, "response"), (b.IsUnsafe, b.Task));
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("[1]", "expected a JSON object")]
    [InlineData("{\"label\":\"safe\",\"p_unsafe\":0.1}", "missing \"id\"")]
    [InlineData("{\"id\":\"a\",\"p_unsafe\":0.1}", "missing \"label\"")]
    [InlineData("{\"id\":\"a\",\"label\":\"maybe\",\"p_unsafe\":0.1}", "\"label\" is \"maybe\"")]
    [InlineData("{\"id\":\"a\",\"label\":\"safe\"}", "missing \"p_unsafe\"")]
    [InlineData("{\"id\":\"a\",\"label\":\"safe\",\"p_unsafe\":1.5}", "outside [0, 1]")]
    [InlineData("{\"id\":\"a\",\"label\":\"safe\",\"p_unsafe\":0.1,\"verdict\":\"ok\"}", "\"verdict\" is \"ok\"")]
    [InlineData("{\"id\":\"a\",\"label\":\"safe\",\"p_unsafe\":0.1,\"categories\":\"S1\"}", "\"categories\" must be an array")]
    public void Bad_lines_say_what_is_wrong(string line, string message)
    {
        var e = Assert.Throws<FormatException>(() => ResultsFile.ParseLine(line));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public async Task Bad_lines_and_repeated_ids_are_reported_and_skipped()
    {
        using var temp = new TempDirectory("bad");
        string path = temp.File("results.jsonl");
        await File.WriteAllTextAsync(path, string.Join("\n",
            ResultsFile.FormatLine(Full),
            "garbage",
            "",
            ResultsFile.FormatLine(Full with { UnsafeProbability = 0.1 }),
            ResultsFile.FormatLine(Full with { Id = "a2" })) + "\n");
        var contents = await ResultsFile.ReadAsync(path, repair: false);
        Assert.Equal(["a1", "a2"], contents.Items.Select(i => i.Id));
        Assert.Equal(0.93, contents.Items[0].UnsafeProbability); // the first occurrence is kept
        Assert.Equal([2, 4], contents.Problems.Select(p => p.Line));
        Assert.Contains("appears again", contents.Problems[1].Message);
        Assert.False(contents.TornLineRepaired);
    }

    [Fact]
    public async Task A_torn_last_line_is_cut_off_on_repair_and_only_skipped_otherwise()
    {
        using var temp = new TempDirectory("torn");
        string path = temp.File("results.jsonl");
        string complete = ResultsFile.FormatLine(Full) + "\n" + ResultsFile.FormatLine(Full with { Id = "a2" }) + "\n";
        string torn = ResultsFile.FormatLine(Full with { Id = "a3" })[..25];
        await File.WriteAllTextAsync(path, complete + torn);

        var readOnly = await ResultsFile.ReadAsync(path, repair: false);
        Assert.Equal(2, readOnly.Items.Count);
        Assert.Contains(readOnly.Problems, p => p.Message.Contains("incomplete"));
        Assert.Equal(complete + torn, await File.ReadAllTextAsync(path)); // untouched

        var repaired = await ResultsFile.ReadAsync(path, repair: true);
        Assert.True(repaired.TornLineRepaired);
        Assert.Empty(repaired.Problems);
        Assert.Equal(["a1", "a2"], repaired.Items.Select(i => i.Id));
        Assert.Equal(complete, await File.ReadAllTextAsync(path, Encoding.UTF8));

        // Appending after the repair continues with whole lines.
        await using (var writer = new ResultsWriter(path))
        {
            await writer.AppendAsync(Full with { Id = "a3" });
        }
        var after = await ResultsFile.ReadAsync(path, repair: true);
        Assert.Equal(["a1", "a2", "a3"], after.Items.Select(i => i.Id));
        Assert.False(after.TornLineRepaired);
    }

    [Fact]
    public async Task A_missing_file_is_a_clear_error()
    {
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => ResultsFile.ReadAsync("/nonexistent/results.jsonl", repair: false));
        Assert.Contains("/nonexistent/results.jsonl", e.Message);
    }
}
