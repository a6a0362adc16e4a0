using System.Text.Json;
using LlamaGuardSharp.Diagnostics;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// <c>int8-drift MODEL_DIR [threads=2] [max-new-tokens=8] [labelled.jsonl]</c>: loads the model in fp32 and in int8 (its
/// sidecar in the model folder, <c>llamaguard quantize</c>) and prints the drift table of docs/int8.md: the benchmark
/// conversation (one 2×2-tile image, ≈400 prompt tokens) and the text items of a labelled set (default
/// bench/int8/labelled.jsonl: its prompt and response classifications).
/// </summary>
internal static class Int8DriftProbe
{
    public static void Run(string modelDir, int threads, int maxNewTokens, string labelled)
    {
        using var fp32 = GuardModel.LoadAsync(modelDir, new GuardModelOptions { Threads = threads, MaxNewTokens = maxNewTokens }).GetAwaiter().GetResult();
        using var int8 = GuardModel.LoadAsync(modelDir,
            new GuardModelOptions { Threads = threads, MaxNewTokens = maxNewTokens, Precision = ComputePrecision.Int8 }).GetAwaiter().GetResult();
        var cases = new List<(string, Conversation)> { ("image prompt (bench)", BenchmarkConversation.Create(fp32.Tokenizer, 400, fp32.Config.Vision.ImageSize)) };
        foreach (string line in File.ReadLines(labelled).Where(l => !string.IsNullOrWhiteSpace(l)))
        {
            using var item = JsonDocument.Parse(line);
            var root = item.RootElement;
            string id = root.GetProperty("id").GetString()!, user = root.GetProperty("user").GetString()!;
            cases.Add((id, root.TryGetProperty("agent", out var agent) ? Conversation.ForResponse(user, agent.GetString()!) : Conversation.ForPrompt(user)));
        }
        var drift = Int8Drift.MeasureAsync(fp32, int8, cases, maxNewTokens).GetAwaiter().GetResult();
        Console.WriteLine($"# {DateTime.UtcNow:u}  {modelDir}  threads={threads}  max-new-tokens={maxNewTokens}");
        Console.Write(Int8Drift.ToMarkdown(drift));
        Console.WriteLine($"summary: max |Δlogit|/σ {drift.Max(c => c.MaxAbsLogitError / c.LogitSpread):G3}, top-1 agreement {drift.Count(c => c.TopTokenAgrees)}/{drift.Count}, "
            + $"greedy tokens agreeing {drift.Sum(c => c.GreedyAgreeing)}/{drift.Sum(c => c.GreedyCompared)}, max |Δp(unsafe)| {drift.Max(c => c.UnsafeProbabilityError):G3}, "
            + $"verdicts agreeing {drift.Count(c => c.VerdictAgrees)}/{drift.Count}");
    }
}
