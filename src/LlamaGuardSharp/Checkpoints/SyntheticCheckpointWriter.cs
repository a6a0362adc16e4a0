using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LlamaGuardSharp.Checkpoints;

/// <summary>Options of <see cref="SyntheticCheckpointWriter"/>.</summary>
/// <param name="Seed">Seeds every tensor (mixed with a hash of its name): same seed, same bytes.</param>
/// <param name="MaxShardBytes">Shard size limit, as transformers' <c>max_shard_size="5GB"</c> (5·10⁹ bytes).</param>
/// <param name="InstructGenerationConfig">Write the real model's sampling generation_config.json (else the plain derived one).</param>
/// <param name="TransformersVersion">Recorded in config.json and generation_config.json.</param>
/// <param name="MaxDegreeOfParallelism">Generator threads (null: all cores).</param>
internal sealed record SyntheticCheckpointOptions(
    ulong Seed = 0,
    long MaxShardBytes = 5_000_000_000,
    bool InstructGenerationConfig = true,
    string TransformersVersion = MllamaConfigJson.RealTransformersVersion,
    int? MaxDegreeOfParallelism = null);

/// <summary>Progress of a synthetic checkpoint write.</summary>
internal sealed record SyntheticCheckpointProgress(string CurrentFile, long BytesWritten, long TotalBytes, TimeSpan Elapsed)
{
    public double MegabytesPerSecond => Elapsed.TotalSeconds > 0 ? BytesWritten / 1e6 / Elapsed.TotalSeconds : 0;
}

/// <summary>A file of a written model folder.</summary>
internal sealed record WrittenFile(string Name, long Bytes);

/// <summary>What <see cref="SyntheticCheckpointWriter"/> wrote.</summary>
internal sealed record SyntheticCheckpointResult(
    string Directory, IReadOnlyList<WrittenFile> Files, int TensorCount, long ParameterCount, long TensorBytes, TimeSpan Elapsed)
{
    public long TotalBytes => Files.Sum(f => f.Bytes);
}

/// <summary>
/// Writes a random-weight Mllama checkpoint in the exact Hugging Face layout: config.json, generation_config.json,
/// preprocessor_config.json, and bf16 weights as <c>model.safetensors</c> or, above <see cref="SyntheticCheckpointOptions.MaxShardBytes"/>,
/// shards <c>model-0000k-of-0000n.safetensors</c> (tensors assigned greedily in inventory order, as transformers does)
/// plus <c>model.safetensors.index.json</c>. Weights are generated in parallel chunks and streamed (two 32 MB buffers:
/// one is written while the next is generated), so memory stays flat whatever the model size.
/// Tokenizer files are not written here (the CLI adds them).
/// </summary>
internal static class SyntheticCheckpointWriter
{
    private const int SubChunkElements = 1 << 20;
    private const int BatchElements = 16 * SubChunkElements;

    /// <summary>Runs <see cref="Write"/> on the thread pool.</summary>
    public static Task<SyntheticCheckpointResult> WriteAsync(MllamaConfig config, string directory, SyntheticCheckpointOptions? options = null,
        IProgress<SyntheticCheckpointProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Write(config, directory, options, progress, cancellationToken), cancellationToken);

    /// <summary>Writes the model folder <paramref name="directory"/> (created if needed; existing model files are replaced).</summary>
    public static SyntheticCheckpointResult Write(MllamaConfig config, string directory, SyntheticCheckpointOptions? options = null,
        IProgress<SyntheticCheckpointProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        options ??= new SyntheticCheckpointOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxShardBytes, 1, nameof(options.MaxShardBytes));
        var stopwatch = Stopwatch.StartNew();
        System.IO.Directory.CreateDirectory(directory);
        var files = new List<WrittenFile>();

        void WriteText(string name, string text)
        {
            string path = Path.Combine(directory, name);
            File.WriteAllText(path, text);
            files.Add(new WrittenFile(name, new FileInfo(path).Length));
        }

        WriteText("config.json", MllamaConfigJson.Config(config, options.TransformersVersion));
        WriteText("generation_config.json", MllamaConfigJson.GenerationConfig(config.Text, options.InstructGenerationConfig, options.TransformersVersion));
        WriteText("preprocessor_config.json", MllamaConfigJson.PreprocessorConfig(config.Vision));

        var inventory = MllamaTensorInventory.For(config);
        var shards = PlanShards(inventory, options.MaxShardBytes);
        long tensorBytes = inventory.Sum(t => t.ElementCount * 2);
        var state = new StreamState(config.Vision, options, progress, stopwatch, tensorBytes);
        // A stale single file or index from an earlier run with a different shard count would make the folder ambiguous.
        foreach (string stale in new[] { "model.safetensors", "model.safetensors.index.json" })
        {
            File.Delete(Path.Combine(directory, stale));
        }
        var weightMap = new Dictionary<string, object?>();
        for (int s = 0; s < shards.Count; s++)
        {
            string name = shards.Count == 1 ? "model.safetensors" : $"model-{s + 1:00000}-of-{shards.Count:00000}.safetensors";
            string path = Path.Combine(directory, name);
            state.CurrentFile = name;
            var byName = shards[s].ToDictionary(t => t.Name, StringComparer.Ordinal);
            var specs = shards[s].Select(t => new TensorSpec(t.Name, SafeTensorDType.BF16, t.Shape)).ToList();
            SafeTensorsWriter.Write(path, specs, (spec, stream) => state.WriteTensor(byName[spec.Name], stream, cancellationToken),
                new Dictionary<string, string> { ["format"] = "pt" }, cancellationToken);
            files.Add(new WrittenFile(name, new FileInfo(path).Length));
            foreach (var t in shards[s])
            {
                weightMap[t.Name] = name;
            }
        }
        if (shards.Count > 1)
        {
            var index = new Dictionary<string, object?>
            {
                ["metadata"] = new Dictionary<string, object?> { ["total_size"] = tensorBytes },
                ["weight_map"] = weightMap,
            };
            WriteText("model.safetensors.index.json", PythonStyleJson.Serialize(index) + "\n");
        }
        state.Report();
        return new SyntheticCheckpointResult(Path.GetFullPath(directory), files, inventory.Count, inventory.Sum(t => t.ElementCount), tensorBytes, stopwatch.Elapsed);
    }

    /// <summary>Greedy sharding in order: a new shard starts when the next tensor would push the current one past the limit.</summary>
    public static IReadOnlyList<IReadOnlyList<ExpectedTensor>> PlanShards(IReadOnlyList<ExpectedTensor> inventory, long maxShardBytes)
    {
        var shards = new List<IReadOnlyList<ExpectedTensor>>();
        var current = new List<ExpectedTensor>();
        long size = 0;
        foreach (var t in inventory)
        {
            long bytes = t.ElementCount * 2;
            if (current.Count > 0 && size + bytes > maxShardBytes)
            {
                shards.Add(current);
                current = [];
                size = 0;
            }
            current.Add(t);
            size += bytes;
        }
        if (current.Count > 0)
        {
            shards.Add(current);
        }
        return shards;
    }

    /// <summary>Generation buffers and progress shared by all tensors of one write.</summary>
    private sealed class StreamState(MllamaVisionConfig vision, SyntheticCheckpointOptions options, IProgress<SyntheticCheckpointProgress>? progress,
        Stopwatch stopwatch, long totalBytes)
    {
        private readonly ushort[][] _buffers = [new ushort[BatchElements], new ushort[BatchElements]];
        private readonly ParallelOptions _parallel = new() { MaxDegreeOfParallelism = options.MaxDegreeOfParallelism ?? Environment.ProcessorCount };
        private long _written;
        private long _lastReportTicks;

        public string CurrentFile { get; set; } = "";

        public void WriteTensor(ExpectedTensor tensor, Stream stream, CancellationToken cancellationToken)
        {
            ulong seed = SyntheticWeights.TensorSeed(options.Seed, tensor.Name);
            long count = tensor.ElementCount;
            Task? pending = null;
            int current = 0;
            try
            {
                for (long start = 0; start < count; start += BatchElements)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    int length = (int)Math.Min(BatchElements, count - start);
                    var buffer = _buffers[current];
                    long batchStart = start;
                    int subChunks = (length + SubChunkElements - 1) / SubChunkElements;
                    if (subChunks == 1)
                    {
                        SyntheticWeights.FillBf16(tensor, vision, seed, batchStart, buffer.AsSpan(0, length));
                    }
                    else
                    {
                        _parallel.CancellationToken = cancellationToken;
                        Parallel.For(0, subChunks, _parallel, c =>
                        {
                            int offset = c * SubChunkElements;
                            int n = Math.Min(SubChunkElements, length - offset);
                            SyntheticWeights.FillBf16(tensor, vision, seed, batchStart + offset, buffer.AsSpan(offset, n));
                        });
                    }
                    pending?.GetAwaiter().GetResult();
                    if (length < SubChunkElements)
                    {
                        // Small tensors (norms, gates): write inline, a task would cost more than the copy.
                        pending = null;
                        Flush(stream, buffer, length);
                    }
                    else
                    {
                        pending = Task.Run(() => Flush(stream, buffer, length), cancellationToken);
                    }
                    current ^= 1;
                }
            }
            finally
            {
                // Never leave a write in flight when the tensor (or the whole write, on error) ends.
                try
                {
                    pending?.GetAwaiter().GetResult();
                }
                catch when (cancellationToken.IsCancellationRequested)
                {
                }
            }
        }

        private void Flush(Stream stream, ushort[] buffer, int length)
        {
            stream.Write(MemoryMarshal.AsBytes(buffer.AsSpan(0, length)));
            Interlocked.Add(ref _written, 2L * length);
            long now = stopwatch.ElapsedTicks;
            if (now - Interlocked.Read(ref _lastReportTicks) > Stopwatch.Frequency * 2)
            {
                Interlocked.Exchange(ref _lastReportTicks, now);
                Report();
            }
        }

        public void Report() => progress?.Report(new SyntheticCheckpointProgress(CurrentFile, Interlocked.Read(ref _written), totalBytes, stopwatch.Elapsed));
    }
}
