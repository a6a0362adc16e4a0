using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Compute;
using LlamaGuardSharp.Diagnostics;
using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard bench [--quick] [--model DIR|REPO_ID [--revision REV] [--download-if-missing]] [--runs N] [--warmup N] [--threads N] [--no-gemm] [--no-prefetch] [--profile] [--precision fp32|int8|both] [--json]</c>: measures the machine's FMA peak,
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
        var skipGemm = new Option<bool>("--no-gemm") { Description = "Skip the per-shape GEMM table (with --precision int8/both also the attention rows)." };
        var noPrefetch = new Option<bool>("--no-prefetch")
        {
            Description = "Do not read the weights into the page cache in the background after loading (shows what the first run costs without it).",
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object on stdout." };
        var precision = new Option<string>("--precision")
        {
            Description = "fp32 (default), int8 (the int8 sidecar; a synthetic model is quantized on first use) or both: fp32 and int8 end to end in "
                + "one run, with the int8 GEMM table against the measured AVX-VNNI peak and the speedups (docs/int8.md).",
            DefaultValueFactory = _ => "fp32",
        };
        precision.AcceptOnlyFromAmong("fp32", "int8", "both");
        var profile = new Option<bool>("--profile")
        {
            Description = "Time every kernel call of the end-to-end runs and report them per kernel and shape (seconds per classification, GFLOP/s, % of peak).",
        };
        var command = new Command("bench", "Benchmark the kernels and end-to-end classification against the machine's measured peak.")
        {
            quick, model.Model, model.Revision, model.DownloadIfMissing, runs, warmup, threads, workDir, skipGemm, noPrefetch, json, profile,
            precision,
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

                ComputePrecision[] precisions = parseResult.GetValue(precision) switch
                {
                    "both" => [ComputePrecision.Fp32, ComputePrecision.Int8],
                    "int8" => [ComputePrecision.Int8],
                    _ => [ComputePrecision.Fp32],
                };
                bool withInt8 = precisions.Contains(ComputePrecision.Int8);
                PeakMeasurement? vnni = null;
                if (withInt8)
                {
                    error.WriteLine($"bench: measuring the AVX-VNNI (vpdpbusd) peak on {context.Threads} threads…");
                    vnni = VnniPeakProbe.Measure(context);
                    error.WriteLine($"bench: int8 peak {vnni.WallGflops:F0} GOP/s ({vnni.CpuGflops:F0} GOP per CPU-second)");
                }

                int tableRepetitions = isQuick ? 3 : 5;
                IReadOnlyList<GemmTiming> gemm = [], gemmInt8 = [];
                IReadOnlyList<(AttentionTiming Fp32, AttentionTiming Int8)> attentionInt8 = [];
                if (!parseResult.GetValue(skipGemm) && withInt8)
                {
                    // The vision self-attention, which the int8 path runs on int8 too: both kernels, one after the other.
                    error.WriteLine("bench: vision attention, float32 and int8…");
                    var attentionShapes = AttentionShape.ModelShapes.Where(s => s.Heads == s.KvHeads).ToList();
                    var attentionContext = new ComputeContext(context.Threads);
                    attentionInt8 = AttentionBenchmark.Run(attentionShapes, attentionContext, peak, tableRepetitions, ct)
                        .Zip(AttentionBenchmark.Run(attentionShapes, attentionContext, vnni!, tableRepetitions, ct, int8: true)).ToList();
                    foreach (var (f, i) in attentionInt8)
                    {
                        error.WriteLine($"bench:   {f.Shape.Name,-28} float32 {f.MedianSeconds * 1e3,7:F1} ms, int8 {i.MedianSeconds * 1e3,7:F1} ms "
                            + $"({i.Gflops:F0} GOP/s, {i.FractionOfPeak:P0} of the VNNI peak): {f.MedianSeconds / i.MedianSeconds:F2}×");
                    }

                    error.WriteLine("bench: int8 GEMM at the model shapes…");
                    gemmInt8 = GemmBenchmark.Run(GemmShape.ModelShapes, new ComputeContext(context.Threads), vnni!, tableRepetitions, ct, int8: true);
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                    foreach (var g in gemmInt8)
                    {
                        error.WriteLine($"bench:   {g.Shape.Name,-22} M={g.Shape.M,-5} N={g.Shape.N,-6} K={g.Shape.K,-5} {g.Gflops,7:F1} GOP/s {g.FractionOfPeak,6:P0} of the VNNI peak");
                    }
                }
                if (!parseResult.GetValue(skipGemm) && precisions.Contains(ComputePrecision.Fp32))
                {
                    error.WriteLine("bench: GEMM at the model shapes…");
                    // Its own context: the GEMM table's pack buffers (and its A/C arrays) must not count towards the
                    // classification's peak memory, so both are dropped and collected before the end-to-end runs.
                    gemm = GemmBenchmark.Run(GemmShape.ModelShapes, new ComputeContext(context.Threads), peak, tableRepetitions, ct);
                    GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                    foreach (var g in gemm)
                    {
                        error.WriteLine($"bench:   {g.Shape.Name,-22} M={g.Shape.M,-5} N={g.Shape.N,-6} K={g.Shape.K,-5} {g.Gflops,7:F1} GFLOP/s {g.FractionOfPeak,6:P0} of the first probe");
                    }
                }

                string modelDir = givenModel ?? await EnsureSyntheticModelAsync(isQuick, parseResult.GetValue(workDir)!, error, ct);
                var kernels = parseResult.GetValue(profile) ? new KernelProfile() : null;
                if (withInt8)
                {
                    await EnsureInt8SidecarAsync(modelDir, synthetic: givenModel is null, context.Threads, error, ct);
                }
                var runsByPrecision = new List<EndToEnd>();
                foreach (var p in precisions)
                {
                    runsByPrecision.Add(await RunEndToEndAsync(modelDir, p, context, peak, warmups, repetitions, kernels, !parseResult.GetValue(noPrefetch), error, ct));
                }
                var endToEnd = runsByPrecision[0];
                // The host may be shared: measure the peak again after the runs and compare against the higher of the
                // two readings (the less disturbed one), so a probe that happened to run during a neighbour's burst
                // cannot inflate the end-to-end percentage.
                error.WriteLine("bench: measuring the FMA peak again…");
                var peakAfter = PeakProbe.Measure(context);
                error.WriteLine($"bench: peak {peakAfter.WallGflops:F0} GFLOP/s ({peakAfter.CpuGflops:F0} GFLOP per CPU-second)");
                var peakBefore = peak;
                peak = peakAfter.WallGflops > peak.WallGflops ? peakAfter : peak;
                endToEnd = endToEnd with { FractionOfPeak = endToEnd.Gflops / peak.WallGflops, PeakBefore = peakBefore.WallGflops, PeakAfter = peakAfter.WallGflops };
                EndToEnd? int8Run = runsByPrecision.Count > 1 ? runsByPrecision[1] with { FractionOfPeak = runsByPrecision[1].Gflops / peak.WallGflops } : null;
                // The GEMM table against the same reference (its progress lines used the first probe).
                gemm = gemm.Select(g => g with { FractionOfPeak = g.Gflops / peak.WallGflops, CpuFractionOfPeak = g.CpuGflops / peak.CpuGflops }).ToList();
                if (kernels is not null)
                {
                    WriteProfile(kernels, endToEnd, peak, error);
                }
                if (parseResult.GetValue(json))
                {
                    output.WriteLine(ToJson(context, cpu, peak, gemm, endToEnd, kernels, int8Run, gemmInt8, vnni, attentionInt8));
                }
                else
                {
                    foreach (var e in int8Run is null ? [endToEnd] : new[] { endToEnd, int8Run })
                    {
                        output.WriteLine($"end-to-end ({PrecisionName(e.Precision)}): {e.Seconds:F1} s median (vision {e.Vision:F2}, prefill {e.Prefill:F2}, decode {e.Decode:F2}), "
                            + $"{e.Flops.Total / 1e12:F2} TFLOP, {e.Gflops:F0} GFLOP/s = {e.FractionOfPeak:P0} of the {peak.WallGflops:F0} GFLOP/s FMA peak, "
                            + $"peak anonymous memory {e.PeakAnonymousBytes / 1e6:F0} MB, peak resident {e.PeakResidentBytes / 1e6:F0} MB");
                    }
                    if (int8Run is not null)
                    {
                        output.WriteLine($"int8 speedup (same run, medians): end-to-end {endToEnd.Seconds / int8Run.Seconds:F2}×, vision {endToEnd.Vision / int8Run.Vision:F2}×, "
                            + $"prefill {endToEnd.Prefill / int8Run.Prefill:F2}×, decode {endToEnd.Decode / int8Run.Decode:F2}×");
                    }
                }
                return 0;
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(error, e);
            }
        });
        return command;
    }

    private sealed record EndToEnd(ComputePrecision Precision, string ModelDirectory, MllamaConfig Config, double LoadSeconds, int PromptTokens, int DecodeSteps, int Warmups,
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

    private static string PrecisionName(ComputePrecision precision) => precision == ComputePrecision.Int8 ? "int8" : "fp32";

    /// <summary>
    /// The int8 sidecar of the benchmarked model: a synthetic checkpoint (bench's own) is quantized on first use; a given
    /// model must have been quantized by the user (a clear error names the command).
    /// </summary>
    private static async Task EnsureInt8SidecarAsync(string modelDir, bool synthetic, int threads, TextWriter error, CancellationToken ct)
    {
        string path = Path.Combine(MllamaCheckpoint.ResolveModelDirectory(modelDir), Int8Sidecar.FileName);
        if (File.Exists(path))
        {
            return;
        }
        if (!synthetic)
        {
            throw new FileNotFoundException($"--precision int8/both needs the int8 sidecar {path}: run `llamaguard quantize --model {modelDir}` first.", path);
        }
        error.WriteLine($"bench: quantizing the synthetic checkpoint to {path} (once; reused by later runs)…");
        using var checkpoint = MllamaCheckpoint.Open(modelDir);
        await Task.Run(() => Int8Sidecar.Write(checkpoint, path, threads, null, ct), ct);
    }

    private static async Task<EndToEnd> RunEndToEndAsync(string modelDir, ComputePrecision precision, ComputeContext context, PeakMeasurement peak, int warmups,
        int repetitions, KernelProfile? kernels, bool prefetch, TextWriter error, CancellationToken ct)
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true); // the previous precision's model
        AnonymousMemorySampler.TryResetPeakResident();
        using var memory = new AnonymousMemorySampler();
        error.WriteLine($"bench: end-to-end with --precision {PrecisionName(precision)}");
        // Five new tokens ≈ a verdict with one category line; category probabilities off so the FLOP count is exact.
        // No image cache and no prompt cache: every run must encode the image and run the whole prompt (the bench times
        // the vision and prefill stages; the same conversation again would otherwise reuse all but one prompt token).
        var options = new GuardModelOptions { Threads = context.Threads, MaxNewTokens = 5, ComputeCategoryProbabilities = false, ImageCacheSize = 0,
            PromptCacheTokens = 0, KernelProfile = kernels, PrefetchWeights = prefetch, Precision = precision,
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
        return new EndToEnd(precision, guard.ModelDirectory, guard.Config, guard.LoadTime.TotalSeconds, first.PromptTokenCount, first.GeneratedTokenCount - 1,
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
        KernelProfile? kernels, EndToEnd? int8Run, IReadOnlyList<GemmTiming> gemmInt8, PeakMeasurement? vnni,
        IReadOnlyList<(AttentionTiming Fp32, AttentionTiming Int8)> attentionInt8)
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
            end_to_end = EndToEndJson(e, kernels, peak),
            // With --precision both: the int8 runs of the same invocation, and the speedups of their medians.
            end_to_end_int8 = int8Run is null ? null : EndToEndJson(int8Run, null, peak),
            int8 = vnni is null ? null : new
            {
                vnni_peak_gops = vnni.WallGflops,
                vnni_peak_gops_per_cpu_second = vnni.CpuGflops,
                speedup_end_to_end = int8Run is null ? (double?)null : e.Seconds / int8Run.Seconds,
                speedup_vision = int8Run is null ? (double?)null : e.Vision / int8Run.Vision,
                speedup_prefill = int8Run is null ? (double?)null : e.Prefill / int8Run.Prefill,
                speedup_decode = int8Run is null ? (double?)null : e.Decode / int8Run.Decode,
                gemm = gemmInt8.Select(g => new
                {
                    name = g.Shape.Name, m = g.Shape.M, n = g.Shape.N, k = g.Shape.K,
                    seconds = g.MedianSeconds, gops = g.Gflops, pct_of_vnni_peak = 100 * g.FractionOfPeak,
                    cpu_pct_of_vnni_peak = 100 * g.CpuFractionOfPeak, weight_gb_per_s = g.WeightGBps,
                }),
                // The attention the int8 path runs on int8 (the vision encoder's), with the float32 kernel of the same shape.
                attention = attentionInt8.Select(a => new
                {
                    name = a.Int8.Shape.Name, queries = a.Int8.Shape.Queries, keys = a.Int8.Shape.Keys, heads = a.Int8.Shape.Heads,
                    head_dim = a.Int8.Shape.HeadDim, seconds = a.Int8.MedianSeconds, gops = a.Int8.Gflops,
                    pct_of_vnni_peak = 100 * a.Int8.FractionOfPeak, fp32_seconds = a.Fp32.MedianSeconds,
                    speedup = a.Fp32.MedianSeconds / a.Int8.MedianSeconds,
                }),
            },
        };
        return JsonSerializer.Serialize(report);
    }

    private static object EndToEndJson(EndToEnd e, KernelProfile? kernels, PeakMeasurement peak) => new
            {
                precision = PrecisionName(e.Precision),
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
            };

    private static object Stage(string name, double seconds, double flops, PeakMeasurement peak) => new
    {
        name,
        seconds,
        tflop = flops / 1e12,
        gflops = seconds > 0 ? flops / seconds / 1e9 : 0,
        pct_of_peak = seconds > 0 ? 100 * flops / seconds / 1e9 / peak.WallGflops : 0,
    };
}
