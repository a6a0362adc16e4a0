using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Text.Json;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Diagnostics;

/// <summary>
/// Checks a model folder without running the model: the files a load needs (and whether hub-cache links point at
/// complete blobs), every safetensors header and the tensor inventory against config.json, the tokenizer and the ids of
/// the tokens the verdict is read from, free memory against the mapped weights, and the CPU features the kernels use.
/// Each finding says what to fix.
/// </summary>
internal static class ModelDoctor
{
    /// <summary>Memory a classification needs besides the mapped weights (activations, caches; ≈ 2.1 GB measured on the real model).</summary>
    private const long WorkingBytes = 2_200_000_000;

    /// <summary>Examines <paramref name="folder"/> (a model folder or a hub-cache repository folder).</summary>
    public static ModelDiagnosis Examine(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        var checks = new List<ModelCheck>();
        string directory;
        try
        {
            directory = MllamaCheckpoint.ResolveModelDirectory(folder);
        }
        catch (Exception e) when (e is IOException or CheckpointFormatException or UnauthorizedAccessException)
        {
            checks.Add(new ModelCheck("files", ModelCheckStatus.Problem, e.Message,
                "Pass a folder with config.json, the safetensors shards and tokenizer.json, or download one with `llamaguard download`."));
            return new ModelDiagnosis(Path.GetFullPath(folder), checks, 0, 0, AvailableMemory(), null, CpuFeatures());
        }
        CheckFiles(directory, checks);

        int tensors = 0;
        long mapped = 0;
        IReadOnlyList<int>? stopIds = null;
        try
        {
            using var checkpoint = MllamaCheckpoint.Open(directory);
            tensors = checkpoint.TensorNames.Count();
            mapped = checkpoint.TotalTensorBytes;
            var config = checkpoint.Config;
            checks.Add(new ModelCheck("headers", ModelCheckStatus.Ok,
                $"{checkpoint.Files.Count} safetensors file(s), {tensors} tensors, {mapped / 1e9:F2} GB, every header valid and every tensor the config needs present with its shape"
                + $" ({config.Text.NumHiddenLayers} text layers, {config.Vision.NumHiddenLayers}+{config.Vision.NumGlobalLayers} vision layers, {checkpoint.Naming} tensor names)"));
            stopIds = MllamaModel.ConfiguredStopTokenIds(checkpoint);
        }
        catch (Exception e) when (e is CheckpointFormatException or IOException or UnauthorizedAccessException or JsonException or InvalidDataException)
        {
            checks.Add(new ModelCheck("headers", ModelCheckStatus.Problem, e.Message,
                "The checkpoint is damaged or incomplete: download it again (`llamaguard download` verifies every file)."));
        }

        VerdictTokenIds? tokens = null;
        try
        {
            tokens = CheckTokens(Llama3Tokenizer.Load(directory), stopIds ?? [], checks);
        }
        catch (Exception e) when (e is TokenizerFormatException or IOException or UnauthorizedAccessException)
        {
            checks.Add(new ModelCheck("tokenizer", ModelCheckStatus.Problem, e.Message, "Put the model's tokenizer.json (or tokenizer.model) in the folder."));
        }

        long available = AvailableMemory();
        CheckMemory(mapped, available, checks);
        var cpu = CpuFeatures();
        CheckCpu(cpu, checks);
        return new ModelDiagnosis(directory, checks, tensors, mapped, available, tokens, cpu);
    }

    private static void CheckFiles(string directory, List<ModelCheck> checks)
    {
        var missing = new List<string>();
        if (!File.Exists(Path.Combine(directory, "tokenizer.json")) && !File.Exists(Path.Combine(directory, "tokenizer.model")))
        {
            missing.Add("tokenizer.json (or tokenizer.model)");
        }
        bool index = File.Exists(Path.Combine(directory, "model.safetensors.index.json"));
        if (!index && !File.Exists(Path.Combine(directory, "model.safetensors")))
        {
            missing.Add("model.safetensors or model.safetensors.index.json with its shards");
        }
        // A hub-cache snapshot holds links; a link whose blob is gone (or never finished) looks like a missing file.
        var dangling = Directory.EnumerateFileSystemEntries(directory, "*", SearchOption.AllDirectories)
            .Select(p => new FileInfo(p))
            .Where(f => f.LinkTarget is not null && Hub.HubCache.ResolveFile(f.FullName) is null && !Directory.Exists(f.FullName))
            .Select(f => Path.GetRelativePath(directory, f.FullName))
            .ToArray();
        if (missing.Count > 0 || dangling.Length > 0)
        {
            checks.Add(new ModelCheck("files", ModelCheckStatus.Problem,
                string.Join("; ", new[] { missing.Count > 0 ? "missing " + string.Join(", ", missing) : null,
                    dangling.Length > 0 ? "links to missing blobs: " + string.Join(", ", dangling) : null }.Where(s => s is not null)),
                "Run `llamaguard download` again for this model: it fetches what is missing and keeps what is there."));
        }
        else
        {
            checks.Add(new ModelCheck("files", ModelCheckStatus.Ok, $"config.json, {(index ? "sharded safetensors with index" : "model.safetensors")}, "
                + (File.Exists(Path.Combine(directory, "tokenizer.json")) ? "tokenizer.json" : "tokenizer.model")));
        }
        if (!File.Exists(Path.Combine(directory, GenerationConfig.FileName)))
        {
            checks.Add(new ModelCheck("generation config", ModelCheckStatus.Warning, "no generation_config.json: stop tokens come from config.json or the Llama 3 defaults",
                "Download generation_config.json with the model if the repository has one."));
        }
        // blobs/*.incomplete next to a snapshot: an interrupted download of a newer file set.
        if (Path.GetFileName(Path.GetDirectoryName(directory)) == "snapshots" && Path.GetDirectoryName(Path.GetDirectoryName(directory)) is { } repo
            && Directory.Exists(Path.Combine(repo, "blobs")) && Directory.GetFiles(Path.Combine(repo, "blobs"), "*.incomplete").Length is > 0 and int partial)
        {
            checks.Add(new ModelCheck("cache", ModelCheckStatus.Warning, $"{partial} unfinished download(s) in {Path.Combine(repo, "blobs")}",
                "Run `llamaguard download` again to finish them (it resumes), or delete the *.incomplete files."));
        }
    }

    /// <summary>
    /// Runs the very check a load runs (<see cref="VerdictTokens.Resolve"/>: single verdict tokens, the
    /// <c>unsafe \n S</c> prefix, the category numbers, the stop tokens), so doctor is healthy exactly when the load
    /// accepts the tokenizer; reports the ids found either way.
    /// </summary>
    private static VerdictTokenIds CheckTokens(Llama3Tokenizer tokenizer, IReadOnlyList<int> configuredStops, List<ModelCheck> checks)
    {
        string? problem = null;
        IReadOnlyList<int> stop;
        try
        {
            stop = VerdictTokens.Resolve(tokenizer, configuredStops).StopTokens;
        }
        catch (TokenizerFormatException e)
        {
            problem = e.Message;
            stop = configuredStops;
        }
        var tokens = new VerdictTokenIds(tokenizer.Encode("safe", false), tokenizer.Encode("unsafe", false), tokenizer.Encode("\n\n", false),
            stop.Distinct().ToDictionary(id => id, id => tokenizer.GetTokenText(id)));
        string ids = $"safe={string.Join(",", tokens.Safe)} unsafe={string.Join(",", tokens.Unsafe)} \\n\\n={string.Join(",", tokens.DoubleNewline)} "
            + $"stop={string.Join(",", tokens.Stop.Select(s => $"{s.Key}{(s.Value is null ? "" : $" {s.Value}")}"))}";
        checks.Add(problem is null
            ? new ModelCheck("tokenizer", ModelCheckStatus.Ok, $"{tokenizer.VocabularySize} tokens; {ids}")
            : new ModelCheck("tokenizer", ModelCheckStatus.Problem, $"{problem} ({ids})",
                "Use the tokenizer.json of meta-llama/Llama-Guard-3-11B-Vision; the model refuses to load with this one."));
        return tokens;
    }

    private static void CheckMemory(long mapped, long available, List<ModelCheck> checks)
    {
        if (available < 0 || mapped == 0)
        {
            checks.Add(new ModelCheck("memory", ModelCheckStatus.Warning, "available memory unknown", null));
            return;
        }
        string detail = $"{available / 1e9:F1} GB available, {mapped / 1e9:F2} GB of weights mapped + ≈ {WorkingBytes / 1e9:F1} GB working memory";
        checks.Add(available >= mapped + WorkingBytes
            ? new ModelCheck("memory", ModelCheckStatus.Ok, detail)
            : new ModelCheck("memory", ModelCheckStatus.Warning, detail + ": the weights cannot all stay in the page cache, so every classification rereads part of them from disk",
                "Free memory (or use a machine with more) so the weights plus ≈ 2 GB fit; it still runs, only slower."));
    }

    private static void CheckCpu(IReadOnlyDictionary<string, bool> cpu, List<ModelCheck> checks)
    {
        string present = string.Join(", ", cpu.Select(f => $"{f.Key} {(f.Value ? "yes" : "no")}"));
        bool fast = cpu["AVX-512F"] && Vector512.IsHardwareAccelerated;
        checks.Add(fast
            ? new ModelCheck("cpu", ModelCheckStatus.Ok, $"{Environment.ProcessorCount} cores; {present}")
            : new ModelCheck("cpu", ModelCheckStatus.Warning, $"{Environment.ProcessorCount} cores; {present}: no usable AVX-512, so the portable kernels run (many times slower)",
                "Run on an x86-64 CPU with AVX-512 (Intel Skylake-SP or later, AMD Zen 4 or later) for the packed GEMM and attention kernels."
                + (cpu["AVX-512F"] ? " AVX-512 is present but not accelerated: check DOTNET_EnableAVX512F / DOTNET_PreferredVectorBitWidth." : "")));
    }

    /// <summary>The extensions the kernels and the image code use.</summary>
    public static IReadOnlyDictionary<string, bool> CpuFeatures() => new Dictionary<string, bool>
    {
        ["AVX2"] = Avx2.IsSupported,
        ["FMA"] = Fma.IsSupported,
        ["AVX-512F"] = Avx512F.IsSupported,
        ["AVX-512BW"] = Avx512BW.IsSupported,
        ["AVX-512VNNI"] = Avx512F.IsSupported && X86Base.IsSupported && (X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0, // CPUID.7.0:ECX.AVX512_VNNI
        ["AVX-VNNI"] = AvxVnni.IsSupported,
        ["AVX512_BF16"] = HostCpu.Current().Avx512Bf16,
    };

    /// <summary>MemAvailable from /proc/meminfo on Linux (what can be used without swapping), else what the GC sees.</summary>
    private static long AvailableMemory()
    {
        try
        {
            if (OperatingSystem.IsLinux() && File.Exists("/proc/meminfo"))
            {
                foreach (string line in File.ReadLines("/proc/meminfo"))
                {
                    if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                        && long.TryParse(line["MemAvailable:".Length..].Trim().Split(' ')[0], out long kib))
                    {
                        return Math.Min(kib * 1024, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }
}
