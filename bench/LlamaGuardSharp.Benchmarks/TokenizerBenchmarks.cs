using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using LlamaGuardSharp.Tokenization;
using Microsoft.ML.Tokenizers;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// Encode throughput of <see cref="Llama3Tokenizer"/> (Llama 3 vocabulary, tests/data/golden/tokenizer/tokenizer.json) against
/// Microsoft.ML.Tokenizers' <see cref="TiktokenTokenizer"/> for cl100k_base (gpt-4) on the same text. The vocabularies differ,
/// but both are tiktoken-style byte-level BPE with near-identical pre-tokenisation patterns, so the comparison measures the
/// implementations. Run: <c>dotnet run -c Release --project bench/LlamaGuardSharp.Benchmarks -- --filter '*TokenizerBenchmarks*'</c>.
/// The MB/s column is UTF-8 input bytes per second (1 MB = 10^6 bytes).
/// </summary>
[Config(typeof(TokenizerBenchmarkConfig))]
[MemoryDiagnoser]
public class TokenizerBenchmarks
{
    private Llama3Tokenizer _ours = null!;
    private TiktokenTokenizer _mlTiktoken = null!;
    private string _text = "";

    [Params(BenchmarkCorpus.English, BenchmarkCorpus.Multilingual)]
    public string Corpus { get; set; } = BenchmarkCorpus.English;

    [GlobalSetup]
    public void Setup()
    {
        _ours = Llama3Tokenizer.Load(BenchmarkCorpus.TokenizerJsonPath());
        _mlTiktoken = TiktokenTokenizer.CreateForModel("gpt-4");
        _text = BenchmarkCorpus.Build(Corpus);
    }

    [Benchmark(Baseline = true, Description = "ML.Tokenizers Tiktoken cl100k")]
    public int MlTokenizersTiktoken() => _mlTiktoken.EncodeToIds(_text).Count;

    [Benchmark(Description = "LlamaGuardSharp Llama3Tokenizer")]
    public int Llama3TokenizerEncode() => _ours.Encode(_text, recognizeSpecialTokens: false).Length;
}

/// <summary>Short, in-process job (the numbers are for a ratio, not for publication-grade absolute timings).</summary>
public sealed class TokenizerBenchmarkConfig : ManualConfig
{
    public TokenizerBenchmarkConfig()
    {
        AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(7));
        AddColumn(new ThroughputColumn());
    }

    private sealed class ThroughputColumn : IColumn
    {
        public string Id => "MBps";
        public string ColumnName => "MB/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "UTF-8 input megabytes (10^6 bytes) encoded per second, from the median time";

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is not { } stats)
            {
                return "NA";
            }
            string corpus = (string)benchmarkCase.Parameters["Corpus"];
            double bytes = Encoding.UTF8.GetByteCount(BenchmarkCorpus.Build(corpus));
            return (bytes / (stats.Median * 1e-9) / 1e6).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);
        }

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public bool IsAvailable(Summary summary) => true;
    }
}

/// <summary>Deterministic benchmark texts (~300 KB of UTF-8 each) assembled from the tokenizer golden strings.</summary>
public static class BenchmarkCorpus
{
    public const string English = "english";
    public const string Multilingual = "multilingual";
    private const int TargetBytes = 300_000;

    public static string TokenizerJsonPath() => Path.Combine(FindGoldenDir(), "tokenizer", "tokenizer.json");

    public static string Build(string corpus)
    {
        List<string> pieces = ReadGoldenTexts()
            .Where(t => !t.Contains("<|", StringComparison.Ordinal) && !IsPathological(t))
            .Where(t => corpus == English ? t.All(c => c < 0x80) : t.Any(c => c >= 0x80))
            .ToList();
        if (corpus == English)
        {
            // The chat prompts carry most of the English; strip their special tokens rather than dropping them.
            pieces.AddRange(ReadGoldenTexts().Where(t => t.Contains("<|", StringComparison.Ordinal))
                .Select(t => System.Text.RegularExpressions.Regex.Replace(t, @"<\|[a-z_0-9]+\|>", "")));
        }
        // A fixed-seed shuffle of whole golden strings, so the text is varied but identical on every run.
        var random = new Random(20241128);
        var builder = new StringBuilder(TargetBytes + 4096);
        while (Encoding.UTF8.GetByteCount(builder.ToString()) < TargetBytes)
        {
            for (int i = 0; i < 64; i++)
            {
                builder.Append(pieces[random.Next(pieces.Count)]).Append(random.Next(4) == 0 ? "\n" : " ");
            }
        }
        return builder.ToString();
    }

    // 600 random letters or 60 repeated 'a's in one word would dominate the byte count and measure only long-word BPE.
    private static bool IsPathological(string text) => text.Length > 300 || text.Distinct().Count() < 3;

    private static IEnumerable<string> ReadGoldenTexts()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(FindGoldenDir(), "tokenizer", "tokenizer_goldens.json")));
        return document.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => Encoding.UTF8.GetString(Convert.FromHexString(c.GetProperty("text_utf8_hex").GetString()!)))
            .Where(t => t.Length > 0)
            .ToList();
    }

    private static string FindGoldenDir()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("LLAMAGUARD_GOLDEN_DIR");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "data", "golden");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("tests/data/golden not found above " + AppContext.BaseDirectory + "; set LLAMAGUARD_GOLDEN_DIR");
    }
}
