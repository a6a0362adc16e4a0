using System.Diagnostics;
using System.Text.Json;
using LlamaGuardSharp.Evaluation;

namespace LlamaGuardSharp.Evaluation.Tests;

/// <summary><c>llamaguard eval</c> end to end on a tiny synthetic model, run as a child process where it matters.</summary>
public class EvalCommandTests(TinyModelFixture fixture) : IClassFixture<TinyModelFixture>
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(4);

    private string[] EvalArgs(string outDir) =>
        ["eval", "--model", fixture.ModelDirectory, "--input", fixture.InputPath, "--out", outDir, "--bootstrap", "200", "--seed", "3", "--target-fpr", "0.2"];

    [Fact]
    public async Task A_run_killed_in_the_middle_resumes_to_the_same_metrics_without_duplicates()
    {
        // The reference: one uninterrupted run.
        string reference = fixture.NewDirectory("reference");
        using (var run = CliProcess.Start(EvalArgs(reference)))
        {
            var (code, output, error) = await run.WaitAsync(RunTimeout);
            Assert.True(code == 1, $"exit {code} (1 = bad lines were skipped)\n{error}");
            Assert.Contains("eval: 3 input line(s) skipped", error);
            Assert.Contains("report:", output);
        }

        // Killed once a few results are written, with a torn line added as if the kill had hit a write.
        string resumed = fixture.NewDirectory("resumed");
        string results = Path.Combine(resumed, "results.jsonl");
        using (var run = CliProcess.Start(EvalArgs(resumed)))
        {
            var clock = Stopwatch.StartNew();
            while (CountLines(results) < 5)
            {
                Assert.False(run.Process.HasExited, "the run ended before it could be killed");
                Assert.True(clock.Elapsed < RunTimeout, "no results appeared");
                await Task.Delay(20);
            }
            run.Process.Kill(entireProcessTree: true);
            await run.Process.WaitForExitAsync();
        }
        int afterKill = CountLines(results);
        Assert.InRange(afterKill, 5, TinyModelFixture.ValidItems - 1);
        Assert.False(File.Exists(Path.Combine(resumed, "metrics.json")));
        await File.AppendAllTextAsync(results, "{\"id\":\"q39\",\"label\":\"uns");

        using (var run = CliProcess.Start(EvalArgs(resumed)))
        {
            var (code, _, error) = await run.WaitAsync(RunTimeout);
            Assert.True(code == 1, error);
            Assert.Contains("partial line", error);
            Assert.Contains($"already in {results}", error);
            foreach (int line in TinyModelFixture.BadLines)
            {
                Assert.Contains($"{fixture.InputPath}:{line}: skipped", error);
            }
            Assert.Matches(@"eval: \d+/40 \(\d+ from an earlier run\), [0-9.]+ items/s, ETA \d+:\d\d:\d\d", error);
        }

        var ids = File.ReadAllLines(results).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()).ToArray();
        Assert.Equal(TinyModelFixture.ValidItems, ids.Length);
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.Equal(
            File.ReadAllLines(Path.Combine(reference, "results.jsonl")).Select(StripSeconds),
            File.ReadAllLines(results).Select(StripSeconds));
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(reference, "metrics.json")), await File.ReadAllTextAsync(Path.Combine(resumed, "metrics.json")));

        // A third run finds everything done and recomputes the same metrics without loading the model.
        var (again, _, againError) = await CliProcess.RunInProcessAsync(EvalArgs(resumed));
        Assert.Equal(1, again);
        Assert.Contains($"all {TinyModelFixture.ValidItems} items are in", againError);
        Assert.DoesNotContain("loading", againError);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(reference, "metrics.json")), await File.ReadAllTextAsync(Path.Combine(resumed, "metrics.json")));
    }

    [Fact]
    public async Task Results_mode_and_compare_work_without_a_model()
    {
        string first = fixture.NewDirectory("first");
        var (code, output, error) = await CliProcess.RunInProcessAsync(
            "eval", "--model", fixture.ModelDirectory, "--input", fixture.InputPath, "--out", first, "--limit", "12", "--shuffle", "--seed", "9", "--bootstrap", "0");
        Assert.True(code is 0 or 1, error);
        var results = Path.Combine(first, "results.jsonl");
        var items = (await ResultsFile.ReadAsync(results, repair: false)).Items;
        Assert.InRange(items.Count, 10, 12); // 12 lines sampled; bad lines among them are skipped
        Assert.NotEqual(["q0", "q1", "q2"], items.Take(3).Select(i => i.Id)); // shuffled
        Assert.All(items, i => Assert.Equal(EvaluationVerdicts.Unparseable, i.Verdict)); // random weights do not follow the grammar
        Assert.Contains("verdict", output);
        Assert.Contains(items, i => i.Task == "response");

        // Another engine's predictions on the same ids: everything flipped above 0.5.
        string other = Path.Combine(fixture.NewDirectory("engine"), "other.jsonl");
        await File.WriteAllLinesAsync(other, items.Select(i => JsonSerializer.Serialize(new { id = i.Id, label = i.IsUnsafe ? 1 : 0, p_unsafe = i.IsUnsafe ? 0.9 : 0.2 })));
        string fromResults = fixture.NewDirectory("from-results");
        (code, output, error) = await CliProcess.RunInProcessAsync("eval", "--results", other, "--out", fromResults, "--json");
        Assert.True(code == 0, error);
        var metrics = JsonDocument.Parse(output).RootElement;
        Assert.Equal(1.0, metrics.GetProperty("roc_auc").GetDouble());
        Assert.Equal(1.0, metrics.GetProperty("at_threshold").GetProperty("f1").GetDouble());
        Assert.Equal(JsonValueKind.Null, metrics.GetProperty("verdict").ValueKind);
        Assert.True(File.Exists(Path.Combine(fromResults, "report.html")));

        string compared = fixture.NewDirectory("compared");
        (code, output, error) = await CliProcess.RunInProcessAsync("eval", "compare", results, other, "--out", compared, "--json");
        Assert.True(code == 0, error);
        var comparison = JsonDocument.Parse(output).RootElement;
        int positives = items.Count(i => i.IsUnsafe);
        Assert.Equal(items.Count, comparison.GetProperty("common").GetInt32());
        // The tiny model's p(unsafe) is far below 0.5: A flags nothing, B flags exactly the unsafe items.
        Assert.Equal(positives, comparison.GetProperty("safe_to_unsafe").GetArrayLength());
        Assert.Equal(0, comparison.GetProperty("unsafe_to_safe").GetArrayLength());
        Assert.Equal(positives, comparison.GetProperty("mcnemar").GetProperty("only_b_correct").GetInt32());
        Assert.Equal(0, comparison.GetProperty("mcnemar").GetProperty("only_a_correct").GetInt32());
        Assert.Equal("exact-binomial", comparison.GetProperty("mcnemar").GetProperty("method").GetString());
        Assert.Equal(Math.Pow(2, 1 - positives), comparison.GetProperty("mcnemar").GetProperty("p_value").GetDouble(), 1e-12);
        Assert.True(File.Exists(Path.Combine(compared, "compare_pr_curve.svg")));
    }

    [Fact]
    public async Task Task_response_skips_conversations_without_an_agent_turn_and_task_prompt_cuts_them()
    {
        string response = fixture.NewDirectory("task-response");
        var (code, _, error) = await CliProcess.RunInProcessAsync(
            "eval", "--model", fixture.ModelDirectory, "--input", fixture.InputPath, "--out", response, "--task", "response", "--limit", "8", "--bootstrap", "0");
        Assert.Equal(1, code);
        Assert.Contains($"{fixture.InputPath}:1: skipped: does not end with an agent turn to classify (--task response)", error);
        var items = (await ResultsFile.ReadAsync(Path.Combine(response, "results.jsonl"), repair: false)).Items;
        Assert.Equal(["q1", "q5"], items.Select(i => i.Id)); // the items with an agent turn among the first 8
        Assert.All(items, i => Assert.Equal("response", i.Task));

        string prompt = fixture.NewDirectory("task-prompt");
        (code, _, error) = await CliProcess.RunInProcessAsync(
            "eval", "--model", fixture.ModelDirectory, "--input", fixture.InputPath, "--out", prompt, "--task", "prompt", "--limit", "8", "--bootstrap", "0");
        Assert.True(code == 0, error);
        items = (await ResultsFile.ReadAsync(Path.Combine(prompt, "results.jsonl"), repair: false)).Items;
        Assert.Equal(8, items.Count);
        Assert.All(items, i => Assert.Equal("prompt", i.Task));

        // Resuming into a folder made with another task is refused rather than mixing the two.
        (code, _, error) = await CliProcess.RunInProcessAsync(
            "eval", "--model", fixture.ModelDirectory, "--input", fixture.InputPath, "--out", prompt, "--task", "response", "--limit", "12", "--bootstrap", "0");
        Assert.Equal(1, code);
        Assert.Contains("holds results of a different run (task prompt → response)", error);
    }

    [Fact]
    public async Task A_resume_with_other_verdict_options_is_refused_and_an_older_run_json_means_the_defaults()
    {
        string outDir = fixture.NewDirectory("run-info");
        string[] run = ["eval", "--model", fixture.ModelDirectory, "--input", fixture.InputPath, "--out", outDir, "--limit", "2", "--bootstrap", "0"];
        var (code, _, error) = await CliProcess.RunInProcessAsync(run);
        Assert.True(code == 0, error);
        string runJson = Path.Combine(outDir, "run.json");
        var recorded = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(runJson))!;
        Assert.Equal("Fp32", recorded["precision"]);
        Assert.Equal("20", recorded["max_new_tokens"]);

        // Results made with int8 (as run.json says) are not resumed by an fp32 run.
        await File.WriteAllTextAsync(runJson, JsonSerializer.Serialize(new Dictionary<string, string>(recorded) { ["precision"] = "Int8" }));
        (code, _, error) = await CliProcess.RunInProcessAsync([.. run[..^4], "--limit", "3", "--bootstrap", "0"]);
        Assert.Equal(1, code);
        Assert.Contains("holds results of a different run (precision Int8 → Fp32)", error);

        // A run.json from before these keys were recorded stands for the defaults: the same options resume, others are refused.
        var older = new Dictionary<string, string>(recorded);
        foreach (string key in new[] { "precision", "cross_attention", "max_new_tokens", "category_probabilities", "apply_exif_orientation" })
        {
            older.Remove(key);
        }
        await File.WriteAllTextAsync(runJson, JsonSerializer.Serialize(older));
        (code, _, error) = await CliProcess.RunInProcessAsync([.. run[..^4], "--limit", "3", "--max-new-tokens", "5", "--bootstrap", "0"]);
        Assert.Equal(1, code);
        Assert.Contains("holds results of a different run (max_new_tokens 20 → 5)", error);
        (code, _, error) = await CliProcess.RunInProcessAsync([.. run[..^4], "--limit", "3", "--bootstrap", "0"]);
        Assert.True(code == 0, error);
        Assert.Equal(3, (await ResultsFile.ReadAsync(Path.Combine(outDir, "results.jsonl"), repair: false)).Items.Count);
    }

    [Theory]
    [InlineData(new[] { "eval", "--out", "/tmp/x" }, "Give --model DIR|REPO_ID and --input FILE.jsonl")]
    [InlineData(new[] { "eval", "--input", "in.jsonl", "--out", "/tmp/x" }, "--input needs --model")]
    [InlineData(new[] { "eval", "--results", "/nonexistent.jsonl", "--out", "/tmp/x" }, "does not exist")]
    [InlineData(new[] { "eval", "--results", "/nonexistent.jsonl", "--out", "/tmp/x", "--threshold", "2" }, "threshold must be in [0, 1]")]
    [InlineData(new[] { "eval", "--results", "/nonexistent.jsonl", "--out", "/tmp/x", "--task", "prompt" }, "--task applies only to a model run")]
    [InlineData(new[] { "eval", "compare", "/nonexistent-a.jsonl", "/nonexistent-b.jsonl", "--out", "/tmp/x" }, "does not exist")]
    public async Task User_errors_are_one_line_and_exit_1(string[] args, string message)
    {
        var (code, _, error) = await CliProcess.RunInProcessAsync(args);
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", error);
        Assert.Contains(message, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    private static int CountLines(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int count = 0;
        int b;
        while ((b = stream.ReadByte()) >= 0)
        {
            if (b == '\n') count++;
        }
        return count;
    }

    /// <summary>A results line without its timing, which differs from run to run.</summary>
    private static string StripSeconds(string line) => System.Text.RegularExpressions.Regex.Replace(line, "\"seconds\":[^}]*", "");
}
