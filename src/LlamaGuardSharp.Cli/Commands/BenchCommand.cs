using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Compute;
using LlamaGuardSharp.Diagnostics;
using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard bench [--quick] [--model DIR|REPO_ID [--revision REV] [--download-if-missing]] [--runs N] [--warmup N] [--threads N] [--no-gemm] [--no-prefetch] [--profile] [--json]</c>: measures the machine's FMA peak,
/// the GEMM kernel at every model shape, and end-to-end classifications (4-tile image, ≈400-token prompt) with a
/// per-stage breakdown, all as medians and as fractions of the peak measured in the same run (the higher of the probe
/// readings before and after the end-to-end runs). Without --model it
/// benchmarks a synthetic checkpoint of the real widths (full depth, or depth-reduced with --quick) that it writes
/// once into --work-dir and reuses. Progress goes to stderr; the report (JSON with --json) to stdout.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "Depth-reduced synthetic model (5 local + 1 global vision layers, 5 text layers), fewer repetitions." };
        var model = new ModelSourceOptions(required: false, "Benchmark this model (a folder, or a Hub repository id in the Hugging Face cache) instead of a synthetic one.");
        var runs = new Option<int?>("--runs") { Description = "End-to-end repetitions (median reported; default 3, 2 with --quick)." }.InRange(1, 100);
        var warmup = new Option<int>("--warmup")
        {
            Description = "Classifications run first and left out of the medians: the first one also pages the mapped weights in (its time is reported as first_run_seconds).",
            DefaultValueFactory = _ => 1,
        }.InRange(0, 100);
        var threads = new Option<int>("--threads") { Description = "Compute threads (0 = all cores).", DefaultValueFactory = _ => 0 }
            .InRange(0, GuardModelOptions.MaxThreads);
        var workDir = new Option<string>("--work-dir")
        {
            Description = "Where synthetic checkpoints are written and reused.",
            DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "llamaguard-bench"),
            HelpName = "DIR",
        };
        var skipGemm = new Option<bool>("--no-gemm") { Description = "Skip the per-shape GEMM table." };
        var noPrefetch = new Option<bool>("--no-prefetch")
        {
            Description = "Do not read the weights into the page cache in the background after loading (shows what the first run costs without it).",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout." };
        var profile = new Option<bool>("--profile")
        {
            Description = "Time every kernel call of the end-to-end runs and report them per kernel and shape (seconds per classification, GFLOP/s, % of peak).",
        };
        var command = new Command("bench", "Benchmark the kernels and end-to-end classification against the machine's measured peak.")
        {
            quick, model.Model, model.Revision, model.DownloadIfMissing, runs, warmup, threads, workDir, skipGemm, noPrefetch, json, profile,
        };
        command.SetAction(async (parseResult, ct) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            bool isQuick = parseResult.GetValue(quick);
            int repetitions = parseResult.GetValue(runs) ?? (isQuick ? 2 : 3);
            int warmups = parseResult.GetValue(warmup);
            try
            {
                string? givenModel = await model.ResolveAsync(parseResult, error, ct); // before the probes: a missing model fails at once
                var context = new ComputeContext(parseResult.GetValue(threads));
                var cpu = HostCpu.Current();
                error.WriteLine($"bench: {cpu}");
                error.WriteLine($"bench: measuring the FMA peak on {context.Threads} threads…");
                var peak = PeakProbe.Measure(context);
                error.WriteLine($"bench: peak {peak.WallGflops:F0} GFLOP/s ({peak.CpuGflops:F0} GFLOP per CPU-second)");

                IReadOnlyList<GemmTiming> gemm = [];
                if (!parseResult.GetValue(skipGemm))
                {
                    error.WriteLine("bench: GEMM at the model shapes…");
                    // Its own context: the GEMM table's pack buffers (and its A/C arrays) must not count towards the
                    // classification's peak memory, so both are dropped and collected before the end-to-end runs.
                    gemm = GemmBenchmark.Run(GemmShape.ModelShapes, new ComputeContext(context.Threads), peak, isQuick ? 3 : 5, ct);
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                    foreach (var g in gemm)
                    {
                        error.WriteLine($"bench:   {g.Shape.Name,-22} M={g.Shape.M,-5} N={g.Shape.N,-6} K={g.Shape.K,-5} {g.Gflops,7:F1} GFLOP/s {g.FractionOfPeak,6:P0} of the first probe");
                    }
                }

                string modelDir = givenModel ?? await EnsureSyntheticModelAsync(isQuick, parseResult.GetValue(workDir)!, error, ct);
                var kernels = parseResult.GetValue(profile) ? new KernelProfile() : null;
                var endToEnd = await RunEndToEndAsync(modelDir, context, peak, warmups, repetitions, kernels, !parseResult.GetValue(noPrefetch), error, ct);
                // The host may be shared: measure the peak again after the runs and compare against the higher of the
                // two readings (the less disturbed one), so a probe that happened to run during a neighbour's burst
                // cannot inflate the end-to-end percentage.
                error.WriteLine("bench: measuring the FMA peak again…");
                var peakAfter = PeakProbe.Measure(context);
                error.WriteLine($"bench: peak {peakAfter.WallGflops:F0} GFLOP/s ({peakAfter.CpuGflops:F0} GFLOP per CPU-second)");
                var peakBefore = peak;
                peak = peakAfter.WallGflops > peak.WallGflops ? peakAfter : peak;
                endToEnd = endToEnd with { FractionOfPeak = endToEnd.Gflops / peak.WallGflops, PeakBefore = peakBefore.WallGflops, PeakAfter = peakAfter.WallGflops };
                // The GEMM table against the same reference (its progress lines used the first probe).
                gemm = gemm.Select(g => g with { FractionOfPeak = g.Gflops / peak.WallGflops, CpuFractionOfPeak = g.CpuGflops / peak.CpuGflops }).ToList();
                if (kernels is not null)
                {
                    WriteProfile(kernels, endToEnd, peak, error);
                }
                output.WriteLine(parseResult.GetValue(json)
                    ? ToJson(context, cpu, peak, gemm, endToEnd, kernels)
                    : $"end-to-end: {endToEnd.Seconds:F1} s median, {endToEnd.Flops.Total / 1e12:F2} TFLOP, {endToEnd.Gflops:F0} GFLOP/s = {endToEnd.FractionOfPeak:P0} of the {peak.WallGflops:F0} GFLOP/s peak, peak anonymous memory {endToEnd.PeakAnonymousBytes / 1e6:F0} MB");
                return 0;
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(error, e);
            }
        });
        return command;
    }

    private sealed record EndToEnd(string ModelDirectory, MllamaConfig Config, double LoadSeconds, int PromptTokens, int DecodeSteps, int Warmups,
        double FirstRunSeconds, int Runs,
        double Seconds, double Preprocess, double Vision, double Prefill, double Decode, StageFlops Flops, double Gflops, double FractionOfPeak,
        long PeakAnonymousBytes, long PeakResidentBytes)
    {
        /// <summary>The peak probe's readings before and after the end-to-end runs (GFLOP/s).</summary>
        public double PeakBefore { get; init; }

        public double PeakAfter { get; init; }

        /// <summary>Major page faults (pages read from disk) per run, warm-ups first; null entries where unknown.</summary>
        public IReadOnlyList<long?> MajorPageFaults { get; init; } = [];
    }

    private static async Task<string> EnsureSyntheticModelAsync(bool quick, string workDir, TextWriter error, CancellationToken ct)
    {
        var real = MllamaPresets.LlamaGuard3_11BVision();
        var config = quick ? MllamaPresets.WithDepth(real, visionLayers: 5, globalLayers: 1, textLayers: 5) : real;
        string dir = Path.Combine(workDir, quick ? "real-width-quick" : "real-full-depth");
        string marker = Path.Combine(dir, ".complete");
        if (File.Exists(marker))
        {
            error.WriteLine($"bench: reusing the synthetic checkpoint {dir}");
            return dir;
        }
        error.WriteLine($"bench: writing a synthetic checkpoint to {dir} (once; reused by later runs)…");
        await SynthCommand.WriteModelFolderAsync(config, dir, new SyntheticCheckpointOptions(InstructGenerationConfig: true), error, ct);
        await File.WriteAllTextAsync(marker, DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture), ct);
        return dir;
    }

    private static async Task<EndToEnd> RunEndToEndAsync(string modelDir, ComputeContext context, PeakMeasurement peak, int warmups,
        int repetitions, KernelProfile? kernels, bool prefetch, TextWriter error, CancellationToken ct)
    {
        using var memory = new AnonymousMemorySampler();
        // Five new tokens ≈ a verdict with one category line; category probabilities off so the FLOP count is exact.
        // No image cache and no prompt cache: every run must encode the image and run the whole prompt (the bench times
        // the vision and prefill stages; the same conversation again would otherwise reuse all but one prompt token).
        var options = new GuardModelOptions { Threads = context.Threads, MaxNewTokens = 5, ComputeCategoryProbabilities = false, ImageCacheSize = 0,
            PromptCacheTokens = 0, KernelProfile = kernels, PrefetchWeights = prefetch,
        };
        using var guard = await GuardModel.LoadAsync(modelDir, options,
            new LineProgress<GuardLoadProgress>(p => error.WriteLine($"bench: loading {p.Stage} ({p.Fraction:P0})")), ct);
        var conversation = BenchmarkConversation.Create(guard.Tokenizer, 400, guard.Config.Vision.ImageSize);
        var verdicts = new List<SafetyVerdict>();
        var majorFaults = new List<long?>(); // per run, warm-ups included
        double firstRun = 0;
        for (int r = 0; r < warmups + repetitions; r++)
        {
            bool warm = r < warmups;
            error.WriteLine(warm
                ? $"bench: warm-up classification {r + 1}/{warmups} (not in the medians)…"
                : $"bench: end-to-end classification {r - warmups + 1}/{repetitions}…");
            if (r == ProfileStart(warmups, repetitions))
            {
                // The first run also pays for paging the mapped weights in: profile the warm runs only.
                kernels?.Clear();
            }
            long? faultsBefore = PageFaults.Major();
            var verdict = await guard.ClassifyAsync(conversation, null, ct);
            if (verdict.ReusedPromptTokenCount != 0 || (r > 0 && verdict.Timings.Vision == TimeSpan.Zero))
            {
                throw new InvalidOperationException("A benchmark classification reused cached work; its time would not be a classification's.");
            }
            long? faults = PageFaults.Major() - faultsBefore;
            var t = verdict.Timings;
            error.WriteLine($"bench:   total {t.Total.TotalSeconds:F2} s (preprocess {t.Preprocess.TotalSeconds:F2}, vision {t.Vision.TotalSeconds:F2}, prefill {t.Prefill.TotalSeconds:F2}, decode {t.Decode.TotalSeconds:F2}; {faults?.ToString(CultureInfo.InvariantCulture) ?? "?"} major page faults)");
            majorFaults.Add(faults);
            if (r == 0)
            {
                firstRun = t.Total.TotalSeconds;
            }
            if (!warm)
            {
                verdicts.Add(verdict);
            }
        }
        var first = verdicts[0];
        var flops = ClassificationFlops.Estimate(guard.Config, first.PromptTokenCount, first.GeneratedTokenCount - 1, images: 1);
        double seconds = Median(verdicts.Select(v => v.Timings.Total.TotalSeconds));
        double gflops = flops.Total / seconds / 1e9;
        return new EndToEnd(guard.ModelDirectory, guard.Config, guard.LoadTime.TotalSeconds, first.PromptTokenCount, first.GeneratedTokenCount - 1,
            warmups, firstRun, repetitions, seconds,
            Median(verdicts.Select(v => v.Timings.Preprocess.TotalSeconds)),
            Median(verdicts.Select(v => v.Timings.Vision.TotalSeconds)),
            Median(verdicts.Select(v => v.Timings.Prefill.TotalSeconds)),
            Median(verdicts.Select(v => v.Timings.Decode.TotalSeconds)),
            flops, gflops, gflops / peak.WallGflops, memory.PeakBytes, AnonymousMemorySampler.PeakResidentBytes())
        {
            MajorPageFaults = majorFaults,
        };
    }

    /// <summary>
    /// The run from which the kernel profile counts: the first measured run after a warm-up, else the second run (the
    /// first pays for paging the weights in) when there are several.
    /// </summary>
    private static int ProfileStart(int warmups, int repetitions) => warmups > 0 ? warmups : repetitions > 1 ? 1 : 0;

    /// <summary>Runs the kernel profile covers.</summary>
    private static int ProfiledRuns(EndToEnd e) => e.Warmups + e.Runs - ProfileStart(e.Warmups, e.Runs);

    /// <summary>The kernel table on stderr: per classification (totals divided by the profiled runs), largest first.</summary>
    private static void WriteProfile(KernelProfile kernels, EndToEnd e, PeakMeasurement peak, TextWriter error)
    {
        var entries = kernels.Entries;
        int runs = ProfiledRuns(e);
        double timed = entries.Sum(k => k.Seconds) / runs;
        error.WriteLine($"bench: kernels per classification, warm runs ({timed:F1} s in kernels; {e.Seconds:F1} s median total):");
        foreach (var k in entries)
        {
            string rate = k.Flops > 0 ? $"{k.Gflops,7:F1} GFLOP/s {k.Gflops / peak.WallGflops,5:P0}" : "";
            error.WriteLine($"bench:   {k.Kernel,-10} {k.Shape,-44} {k.Calls / runs,5} calls {k.Seconds / runs,8:F2} s {rate}");
        }
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string ToJson(ComputeContext context, HostCpu cpu, PeakMeasurement peak, IReadOnlyList<GemmTiming> gemm, EndToEnd e,
        KernelProfile? kernels)
    {
        var report = new
        {
            date = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
            machine = new
            {
                processor_count = Environment.ProcessorCount, threads = context.Threads, os = Environment.OSVersion.ToString(), runtime = Environment.Version.ToString(),
                cpu = new { vendor = cpu.Vendor, model_name = cpu.ModelName, family = cpu.Family, model = cpu.Model, l2_kib = cpu.L2KiB, avx512 = cpu.Avx512, avx512_bf16 = cpu.Avx512Bf16 },
            },
            // The higher of the readings before and after the end-to-end runs; every pct_of_peak outside "gemm" uses it
            // (the GEMM table's percentages use the reading taken just before it, peak_gflops_before).
            peak_gflops = peak.WallGflops,
            peak_gflops_per_cpu_second = peak.CpuGflops,
            peak_gflops_before = e.PeakBefore,
            peak_gflops_after = e.PeakAfter,
            gemm = gemm.Select(g => new
            {
                name = g.Shape.Name, m = g.Shape.M, n = g.Shape.N, k = g.Shape.K,
                seconds = g.MedianSeconds, gflops = g.Gflops, pct_of_peak = 100 * g.FractionOfPeak,
                cpu_pct_of_peak = 100 * g.CpuFractionOfPeak, weight_gb_per_s = g.WeightGBps,
            }),
            end_to_end = new
            {
                model = e.ModelDirectory,
                depth = new { vision_local = e.Config.Vision.NumHiddenLayers, vision_global = e.Config.Vision.NumGlobalLayers, text = e.Config.Text.NumHiddenLayers },
                load_seconds = e.LoadSeconds,
                prompt_tokens = e.PromptTokens,
                image_tiles = e.Config.Vision.MaxNumTiles,
                decode_steps = e.DecodeSteps,
                warmup_runs = e.Warmups,
                first_run_seconds = e.FirstRunSeconds,
                runs = e.Runs,
                seconds = e.Seconds,
                tflop = e.Flops.Total / 1e12,
                gflops = e.Gflops,
                pct_of_peak = 100 * e.FractionOfPeak,
                peak_rss_mb = e.PeakAnonymousBytes / 1e6,
                peak_resident_including_mapped_weights_mb = e.PeakResidentBytes / 1e6,
                // Per run, warm-ups first: mapped weight pages read back from disk (the page cache evicted them).
                major_page_faults = e.MajorPageFaults,
                stages = new[]
                {
                    Stage("preprocess", e.Preprocess, 0, peak),
                    Stage("vision_and_cross_attention_states", e.Vision, e.Flops.Vision + e.Flops.CrossAttentionStates, peak),
                    Stage("prefill", e.Prefill, e.Flops.Prefill, peak),
                    Stage("decode", e.Decode, e.Flops.Decode, peak),
                },
                // Per classification over the profiled runs (see ProfileStart); absent without --profile.
                kernels = kernels?.Entries.Select(k => new
                {
                    kernel = k.Kernel,
                    shape = k.Shape,
                    calls = (double)k.Calls / ProfiledRuns(e),
                    seconds = k.Seconds / ProfiledRuns(e),
                    gflops = k.Gflops,
                    pct_of_peak = 100 * k.Gflops / peak.WallGflops,
                }),
            },
        };
        return JsonSerializer.Serialize(report);
    }

    private static object Stage(string name, double seconds, double flops, PeakMeasurement peak) => new
    {
        name,
        seconds,
        tflop = flops / 1e12,
        gflops = seconds > 0 ? flops / seconds / 1e9 : 0,
        pct_of_peak = seconds > 0 ? 100 * flops / seconds / 1e9 / peak.WallGflops : 0,
    };
}
