using System.CommandLine;
using System.Text.Json;
using LlamaGuardSharp.Evaluation;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard eval</c>: measures the guard on labelled data. Three forms:
/// <c>eval --model DIR --input FILE.jsonl --out DIR</c> classifies each item, appending to <c>DIR/results.jsonl</c>
/// (resumable: a rerun skips the ids already there), then writes the metrics, plots and report;
/// <c>eval --results FILE.jsonl --out DIR</c> does the metrics from existing predictions without a model;
/// <c>eval compare A.jsonl B.jsonl --out DIR</c> compares two results files item by item.
/// Formulas and files: docs/evaluation.md.
/// </summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var modelSource = new ModelSourceOptions(required: false);
        var model = modelSource.Model;
        var input = new Option<string?>("--input")
        {
            Description = "JSON Lines of labelled conversations: the classify --input lines plus \"label\": \"safe\"|\"unsafe\" and optional "
                + "\"categories\": [\"S1\", …]. Bad lines are reported and skipped.",
            HelpName = "FILE",
        };
        var results = new Option<string?>("--results")
        {
            Description = "Compute everything from an existing results file (ours or another engine's: id, label, p_unsafe at least) without a model.",
            HelpName = "FILE",
        };
        var output = CreateOutOption("Output folder (created): metrics.json, sweep.csv, plots (PNG and SVG), report.html; a model run "
            + "(--input) also appends its predictions to results.jsonl there, which a rerun resumes.");
        var task = new Option<string>("--task")
        {
            Description = "auto: from each conversation's last turn; prompt: up to the last user turn; response: the last agent turn.",
            DefaultValueFactory = _ => "auto",
        };
        task.AcceptOnlyFromAmong("auto", "prompt", "response");
        var limit = new Option<int?>("--limit") { Description = "Evaluate at most N items (the first N, after --shuffle).", HelpName = "N" }.InRange(0, int.MaxValue);
        var shuffle = new Option<bool>("--shuffle") { Description = "Take the items in a random order fixed by --seed (with --limit: a random sample)." };
        var metricOptions = new MetricOptionSet(seedDescription: "Seed of --shuffle and of the bootstrap.");
        var conversationOptions = new ConversationOptions(imageIsOptionalFile: false);
        var json = new Option<bool>("--json") { Description = "Print metrics.json on stdout instead of the table." };

        var command = new Command("eval", "Measure and calibrate the guard on labelled data: metrics, threshold sweep, per-category results, plots and an HTML report.");
        var modelOptions = new ModelLoadOptions(modelSource);
        modelOptions.AddTo(command);
        command.Options.Add(input);
        command.Options.Add(results);
        command.Options.Add(output);
        command.Options.Add(task);
        command.Options.Add(limit);
        command.Options.Add(shuffle);
        metricOptions.AddTo(command);
        command.Options.Add(conversationOptions.Categories);
        command.Options.Add(conversationOptions.Exclude);
        command.Options.Add(json);
        command.Subcommands.Add(CreateCompare());

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                string outDir = parseResult.GetValue(output)!;
                var options = metricOptions.Bind(parseResult);
                string? resultsPath = parseResult.GetValue(results);
                if (resultsPath is not null)
                {
                    Option[] modelRunOnly = [.. modelOptions.All, input, task, limit, shuffle, conversationOptions.Categories, conversationOptions.Exclude];
                    if (modelRunOnly.FirstOrDefault(o => parseResult.GetResult(o) is { Implicit: false }) is { } given)
                    {
                        throw new ArgumentException($"--results computes the metrics of an existing results file; {given.Name} applies only to a model run (--model, --input).");
                    }
                    var contents = await ResultsFile.ReadAsync(resultsPath, repair: false, cancellationToken);
                    ReportProblems(error, resultsPath, contents.Problems);
                    int code = await WriteMetricsAsync(parseResult, resultsPath, contents.Items, options, outDir, json, cancellationToken);
                    return contents.Problems.Count == 0 ? code : 1;
                }
                string inputPath = parseResult.GetValue(input) ?? throw new ArgumentException("Give --model DIR|REPO_ID and --input FILE.jsonl to run the model, or --results FILE.jsonl.");
                if (parseResult.GetValue(model) is null)
                {
                    throw new ArgumentException("--input needs --model DIR|REPO_ID (or use --results FILE.jsonl for existing predictions).");
                }
                int? max = parseResult.GetValue(limit);
                var run = new EvalRun(inputPath, outDir, parseResult.GetValue(task) switch { "prompt" => EvalTask.Prompt, "response" => EvalTask.Response, _ => EvalTask.Auto },
                    max, parseResult.GetValue(shuffle), options.Seed);
                var policy = await conversationOptions.BindPolicyAsync(parseResult, cancellationToken);
                if (parseResult.GetValue(modelSource.Precision) == "int8")
                {
                    error.WriteLine(Int8AgreementRecipe(parseResult.GetValue(model)!, inputPath));
                }
                int skipped = await run.ClassifyAsync(() => modelOptions.LoadAsync(parseResult, error, cancellationToken), policy, error, cancellationToken);
                var contentsAfter = await ResultsFile.ReadAsync(run.ResultsPath, repair: true, cancellationToken);
                ReportProblems(error, run.ResultsPath, contentsAfter.Problems);
                int status = await WriteMetricsAsync(parseResult, run.ResultsPath, contentsAfter.Items, options, outDir, json, cancellationToken);
                if (skipped > 0)
                {
                    error.WriteLine($"eval: {skipped} input line(s) skipped (see the errors above)");
                }
                return skipped + contentsAfter.Problems.Count == 0 ? status : 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                error.WriteLine("eval: stopped; run the same command again to continue where it stopped.");
                return 130;
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(error, e);
            }
        });
        return command;
    }

    /// <summary>How to check int8 against fp32 on one's own data before switching (printed by an int8 model run; docs/int8.md).</summary>
    internal static string Int8AgreementRecipe(string model, string input) =>
        "eval: --precision int8 drifts slightly from fp32 (docs/int8.md). Before switching, check agreement on your data:\n"
        + $"eval:   llamaguard eval --model {model} --input {input} --out eval-fp32\n"
        + $"eval:   llamaguard eval --model {model} --input {input} --precision int8 --out eval-int8\n"
        + "eval:   llamaguard eval compare eval-fp32/results.jsonl eval-int8/results.jsonl --out eval-compare   (agreement, flips, McNemar)";

    private static Command CreateCompare()
    {
        var a = new Argument<string>("A") { Description = "The first results file (the baseline)." };
        var b = new Argument<string>("B") { Description = "The second results file (the candidate)." };
        var output = CreateOutOption("Output folder (created): compare.json, the overlaid curves (compare_pr_curve, compare_roc_curve; PNG and SVG), report.html.");
        var metricOptions = new MetricOptionSet(seedDescription: "Seed of the bootstrap.");
        var json = new Option<bool>("--json") { Description = "Print compare.json on stdout instead of the summary." };
        var command = new Command("compare", "Compare two results files on the same items: agreement, flips with their ids, McNemar's test, metric deltas, overlaid PR/ROC curves.");
        command.Arguments.Add(a);
        command.Arguments.Add(b);
        command.Options.Add(output);
        metricOptions.AddTo(command);
        command.Options.Add(json);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var stdout = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                string pathA = parseResult.GetValue(a)!, pathB = parseResult.GetValue(b)!;
                var contentsA = await ResultsFile.ReadAsync(pathA, repair: false, cancellationToken);
                var contentsB = await ResultsFile.ReadAsync(pathB, repair: false, cancellationToken);
                ReportProblems(error, pathA, contentsA.Problems);
                ReportProblems(error, pathB, contentsB.Problems);
                string outDir = parseResult.GetValue(output)!;
                var idsB = contentsB.Items.ToDictionary(i => i.Id, i => i.IsUnsafe, StringComparer.Ordinal);
                if (!contentsA.Items.Any(i => idsB.TryGetValue(i.Id, out bool label) && label == i.IsUnsafe))
                {
                    throw new ArgumentException($"{pathA} and {pathB} have no ids in common (with the same label).");
                }
                var comparison = await EvaluationOutput.WriteComparisonAsync(pathA, contentsA.Items, pathB, contentsB.Items, metricOptions.Bind(parseResult), outDir, cancellationToken);
                if (parseResult.GetValue(json))
                {
                    stdout.Write(MetricsJson.Serialize(comparison));
                }
                else
                {
                    stdout.Write(EvaluationOutput.FormatComparison(comparison));
                    stdout.WriteLine($"report: {Path.Combine(outDir, "report.html")}");
                }
                return contentsA.Problems.Count + contentsB.Problems.Count == 0 ? 0 : 1;
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(error, e);
            }
        });
        return command;
    }

    private static Option<string> CreateOutOption(string description) => new("--out")
    {
        Description = description,
        HelpName = "DIR",
        Required = true,
    };

    private static async Task<int> WriteMetricsAsync(ParseResult parseResult, string source, IReadOnlyList<EvaluationItem> items, EvaluationOptions options,
        string outDir, Option<bool> json, CancellationToken cancellationToken)
    {
        if (items.Count == 0)
        {
            throw new ArgumentException($"{source} holds no results to evaluate.");
        }
        parseResult.InvocationConfiguration.Error.WriteLine($"eval: computing the metrics of {items.Count} results"
            + (options.BootstrapResamples > 0 ? $" ({options.BootstrapResamples} bootstrap resamples)" : "") + "…");
        var metrics = await EvaluationOutput.WriteAsync(source, items, options, outDir, cancellationToken);
        var stdout = parseResult.InvocationConfiguration.Output;
        if (parseResult.GetValue(json))
        {
            stdout.Write(MetricsJson.Serialize(metrics));
        }
        else
        {
            stdout.Write(EvaluationOutput.FormatTable(metrics));
            stdout.WriteLine($"report: {Path.Combine(outDir, "report.html")}");
        }
        return 0;
    }

    private static void ReportProblems(TextWriter error, string path, IReadOnlyList<ResultsProblem> problems)
    {
        foreach (var problem in problems)
        {
            error.WriteLine($"{path}:{problem.Line}: skipped: {problem.Message}");
        }
    }

    /// <summary>The options that shape the metrics, shared by <c>eval</c> and <c>eval compare</c>.</summary>
    private sealed class MetricOptionSet(string seedDescription)
    {
        private readonly Option<double> _threshold = new("--threshold") { Description = "Decision threshold on p(unsafe): unsafe when p ≥ X.", DefaultValueFactory = _ => 0.5, HelpName = "X" };
        private readonly Option<double?> _targetFpr = new("--target-fpr") { Description = "Also find the lowest threshold whose false-positive rate is at most X.", HelpName = "X" };
        private readonly Option<double?> _targetRecall = new("--target-recall") { Description = "Also find the highest threshold whose recall is at least X.", HelpName = "X" };
        private readonly Option<int> _bootstrap = new("--bootstrap") { Description = "Bootstrap resamples for the 95 % intervals (0 = off).", DefaultValueFactory = _ => 1000, HelpName = "N" };
        private readonly Option<ulong> _seed = new("--seed") { Description = seedDescription, DefaultValueFactory = _ => 0, HelpName = "S" };
        private readonly Option<int> _bins = new("--calibration-bins") { Description = "Equal-width bins of the reliability diagram and the ECE.", DefaultValueFactory = _ => 10, HelpName = "N" };

        public void AddTo(Command command)
        {
            command.Options.Add(_threshold);
            command.Options.Add(_targetFpr);
            command.Options.Add(_targetRecall);
            command.Options.Add(_bootstrap);
            command.Options.Add(_seed);
            command.Options.Add(_bins);
        }

        public EvaluationOptions Bind(ParseResult parseResult)
        {
            var options = new EvaluationOptions
            {
                Threshold = parseResult.GetValue(_threshold),
                TargetFalsePositiveRate = parseResult.GetValue(_targetFpr),
                TargetRecall = parseResult.GetValue(_targetRecall),
                BootstrapResamples = parseResult.GetValue(_bootstrap),
                Seed = parseResult.GetValue(_seed),
                CalibrationBins = parseResult.GetValue(_bins),
            };
            options.Validate();
            return options;
        }
    }
}
