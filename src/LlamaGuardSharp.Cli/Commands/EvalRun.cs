using System.Text.Json;
using LlamaGuardSharp.Evaluation;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// The model part of <c>eval</c>: classifies each pending input item and appends its result to
/// <c>OUT/results.jsonl</c>. Items whose id is already in the file are skipped, so rerunning the same command continues
/// where a killed or stopped run left off; <c>OUT/run.json</c> records what the results were made with, and a rerun that
/// would mix in results of another model, task, policy or verdict-changing option (layout, precision, cross-attention,
/// --max-new-tokens, category probabilities, EXIF orientation) is refused.
/// </summary>
internal sealed class EvalRun(string inputPath, string outDir, EvalTask task, int? limit, bool shuffle, ulong seed)
{
    public string ResultsPath => Path.Combine(outDir, "results.jsonl");

    private string RunInfoPath => Path.Combine(outDir, "run.json");

    /// <summary>Classifies the pending items; returns how many input lines were skipped as bad.</summary>
    public async Task<int> ClassifyAsync(Func<Task<GuardModel>> loadModel, SafetyPolicy policy, TextWriter error, CancellationToken cancellationToken)
    {
        if (!File.Exists(inputPath))
        {
            throw new FileNotFoundException($"The input file {inputPath} does not exist.", inputPath);
        }
        Directory.CreateDirectory(outDir);
        var lines = await EvalInputLine.ReadAsync(inputPath, cancellationToken);
        IReadOnlyList<EvalInputLine> selected = shuffle ? SeededShuffle.Shuffle(lines, seed) : lines;
        if (limit is { } max && selected.Count > max)
        {
            selected = selected.Take(max).ToArray();
        }

        var done = new HashSet<string>(StringComparer.Ordinal);
        if (File.Exists(ResultsPath))
        {
            var existing = await ResultsFile.ReadAsync(ResultsPath, repair: true, cancellationToken);
            if (existing.TornLineRepaired)
            {
                error.WriteLine($"eval: {ResultsPath} ended in a partial line (a run stopped while writing it); removed, that item is evaluated again");
            }
            done.UnionWith(existing.Items.Select(i => i.Id));
        }
        // Every pending line is checked before the model loads, so a bad line is reported at once, not hours into a
        // run; the conversation (with its image) is read again when its turn comes rather than held in memory.
        string baseDirectory = Path.GetDirectoryName(Path.GetFullPath(inputPath))!;
        var pending = new List<EvalInputLine>();
        int skipped = 0, alreadyDone = 0;
        foreach (var line in selected)
        {
            if (line.Problem is null && done.Contains(line.Id))
            {
                alreadyDone++;
                continue;
            }
            try
            {
                await line.ParseAsync(baseDirectory, task, cancellationToken);
                pending.Add(line);
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                skipped++;
                error.WriteLine($"{inputPath}:{line.LineNumber}: skipped: {CliErrors.OneLine(e.Message)}");
            }
        }
        if (pending.Count == 0)
        {
            error.WriteLine($"eval: all {alreadyDone} items are in {ResultsPath}; computing the metrics");
            return skipped;
        }

        using var guard = await loadModel();
        await CheckRunInfoAsync(guard, policy, done.Count > 0, cancellationToken);
        error.WriteLine($"eval: loaded {guard.ModelDirectory} in {guard.LoadTime.TotalSeconds:F1} s; {pending.Count} items to classify"
            + (alreadyDone > 0 ? $", {alreadyDone} already in {ResultsPath}" : ""));
        var progress = new EvalProgress(error, alreadyDone + pending.Count, alreadyDone);
        await using var writer = new ResultsWriter(ResultsPath);
        foreach (var line in pending)
        {
            cancellationToken.ThrowIfCancellationRequested();
            EvaluationItem item;
            try
            {
                var (conversation, isUnsafe, categories) = await line.ParseAsync(baseDirectory, task, cancellationToken);
                item = ToItem(line.Id, isUnsafe, categories, await guard.ClassifyAsync(conversation, policy, cancellationToken));
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                // The item's own input is bad (e.g. its image changed since the check); the run goes on.
                skipped++;
                error.WriteLine($"{inputPath}:{line.LineNumber}: skipped: {CliErrors.OneLine(e.Message)}");
                progress.Advance();
                continue;
            }
            // Outside the catch: failing to write the results (disk full…) stops the run instead of skipping items.
            await writer.AppendAsync(item, cancellationToken);
            progress.Advance();
        }
        return skipped;
    }

    /// <summary>The model options that change a verdict or its probabilities, as recorded in <c>run.json</c>.</summary>
    private static IEnumerable<KeyValuePair<string, string>> VerdictOptions(GuardModelOptions options)
    {
        yield return new("layout", options.Layout.ToString());
        yield return new("precision", options.Precision.ToString());
        yield return new("cross_attention", options.CrossAttentionMasking.ToString());
        yield return new("max_new_tokens", options.MaxNewTokens.ToString(System.Globalization.CultureInfo.InvariantCulture));
        yield return new("category_probabilities", options.ComputeCategoryProbabilities ? "true" : "false");
        yield return new("apply_exif_orientation", options.ImageDecoder.ApplyExifOrientation ? "true" : "false");
    }

    private static EvaluationItem ToItem(string id, bool isUnsafe, IReadOnlyList<string>? categories, SafetyVerdict verdict) => new(
        id,
        isUnsafe,
        verdict.UnsafeProbability,
        verdict.Kind switch { VerdictKind.Safe => EvaluationVerdicts.Safe, VerdictKind.Unsafe => EvaluationVerdicts.Unsafe, _ => EvaluationVerdicts.Unparseable },
        verdict.ViolatedCategories.Select(c => c.Code).Concat(verdict.UnknownCodes).ToArray(),
        categories,
        verdict.CategoryProbabilities.Count == 0 ? null : verdict.CategoryProbabilities.ToDictionary(c => c.Category.Code, c => c.Probability),
        verdict.Task == ClassificationTask.PromptClassification ? EvaluationVerdicts.PromptTask : EvaluationVerdicts.ResponseTask,
        verdict.Timings.Total.TotalSeconds);

    /// <summary>
    /// Writes <c>run.json</c> (model, task, policy and every option that changes a verdict), or, when results exist
    /// already, checks that this run classifies the same way as the one that made them. A key missing from an older
    /// <c>run.json</c> stands for that option's default (the value such a run was made with).
    /// </summary>
    private async Task CheckRunInfoAsync(GuardModel guard, SafetyPolicy policy, bool resuming, CancellationToken cancellationToken)
    {
        var info = new Dictionary<string, string>
        {
            ["model"] = Path.GetFullPath(guard.ModelDirectory),
            ["task"] = task.ToString().ToLowerInvariant(),
            ["policy"] = string.Join("; ", policy.Categories.Select(c => $"{c.Code} {c.Name}")),
        };
        foreach (var (key, value) in VerdictOptions(guard.Options))
        {
            info[key] = value;
        }
        if (resuming && File.Exists(RunInfoPath))
        {
            var previous = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(RunInfoPath, cancellationToken)) ?? [];
            var defaults = VerdictOptions(GuardModelOptions.Default).ToDictionary(kv => kv.Key, kv => kv.Value);
            var differences = info
                .Select(kv => (kv.Key, Before: previous.GetValueOrDefault(kv.Key) ?? defaults.GetValueOrDefault(kv.Key), Now: kv.Value))
                .Where(d => d.Before != d.Now)
                .Select(d => $"{d.Key} {d.Before ?? "(none)"} → {d.Now}").ToArray();
            if (differences.Length > 0)
            {
                throw new ArgumentException($"{ResultsPath} holds results of a different run ({string.Join("; ", differences)}); use another --out, or delete it to start over.");
            }
            return;
        }
        await File.WriteAllTextAsync(RunInfoPath, JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true }) + "\n", cancellationToken);
    }
}
