using System.Text.Json;
using LlamaGuardSharp.Compute;
using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Checkpoints;

/// <summary>
/// An Hugging Face Mllama model folder: <c>config.json</c> plus either <c>model.safetensors</c> or shards listed in
/// <c>model.safetensors.index.json</c>. Also accepts a hub-cache repository folder
/// (<c>models--org--name</c>, resolved through <c>refs/main</c> or its only snapshot). Tensors are addressed by their
/// canonical (legacy) names whatever generation the files use, and stay in the memory maps.
/// </summary>
internal sealed class MllamaCheckpoint : IDisposable
{
    private readonly Dictionary<string, (SafeTensorsFile File, TensorInfo Info)> _tensors;
    private readonly List<SafeTensorsFile> _files;

    private MllamaCheckpoint(string directory, MllamaConfig config, TensorNaming naming, List<SafeTensorsFile> files,
        Dictionary<string, (SafeTensorsFile, TensorInfo)> tensors)
    {
        Directory = directory;
        Config = config;
        Naming = naming;
        _files = files;
        _tensors = tensors;
    }

    /// <summary>The resolved model folder (a snapshot folder for hub caches).</summary>
    public string Directory { get; }

    public MllamaConfig Config { get; }

    public TensorNaming Naming { get; }

    public IReadOnlyList<SafeTensorsFile> Files => _files;

    /// <summary>Canonical names of every tensor.</summary>
    public IEnumerable<string> TensorNames => _tensors.Keys;

    /// <summary>Total bytes of tensor data.</summary>
    public long TotalTensorBytes => _tensors.Values.Sum(t => t.Info.ByteLength);

    /// <summary>Bytes of tensor <paramref name="canonicalName"/> in its file, 0 when the checkpoint has no such tensor.</summary>
    public long TensorBytes(string canonicalName) => _tensors.TryGetValue(canonicalName, out var entry) ? entry.Info.ByteLength : 0;

    /// <summary>Opens a model folder or hub-cache folder, validates every file header and the tensor inventory (<see cref="Validate"/>).</summary>
    public static MllamaCheckpoint Open(string path) => Open(path, validate: true);

    /// <summary>
    /// Opens a model folder or hub-cache folder and validates every file header; with <paramref name="validate"/> also checks
    /// the tensors against the config (<see cref="Validate"/>). Skipping that is for tools that inspect partial checkpoints.
    /// </summary>
    public static MllamaCheckpoint Open(string path, bool validate)
    {
        var checkpoint = OpenUnvalidated(path);
        if (validate)
        {
            try
            {
                checkpoint.Validate();
            }
            catch
            {
                checkpoint.Dispose();
                throw;
            }
        }
        return checkpoint;
    }

    /// <summary>
    /// Checks that the checkpoint holds exactly the tensors <see cref="MllamaTensorInventory"/> derives from the config:
    /// none missing, none unexpected, every shape as the config says, every dtype BF16, F16 or F32.
    /// Throws <see cref="CheckpointFormatException"/> naming the file and the (stored) tensor name of the first problem.
    /// </summary>
    public void Validate()
    {
        IReadOnlyList<ExpectedTensor> expected;
        try
        {
            expected = MllamaTensorInventory.For(Config);
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException(Path.Combine(Directory, "config.json"), null, "config sizes are so large that tensor shapes overflow");
        }
        var expectedNames = new HashSet<string>(expected.Select(e => e.Name), StringComparer.Ordinal);
        foreach (var (name, (file, _)) in _tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            if (!expectedNames.Contains(name))
            {
                throw new CheckpointFormatException(file.FilePath, _tensors[name].Info.Name,
                    "unexpected tensor: the config does not describe it (wrong model or mismatched config.json?)");
            }
        }
        foreach (var e in expected)
        {
            if (!_tensors.TryGetValue(e.Name, out var entry))
            {
                throw new CheckpointFormatException(Directory, TensorNameMapping.ToStored(e.Name, Naming),
                    $"tensor is missing from the checkpoint (expected shape {e.ShapeText})");
            }
            var (file, info) = entry;
            if (!info.Shape.AsSpan().SequenceEqual(e.Shape))
            {
                throw new CheckpointFormatException(file.FilePath, info.Name, $"shape {info.ShapeText} disagrees with config.json, which implies {e.ShapeText}");
            }
            if (info.DType is not (SafeTensorDType.BF16 or SafeTensorDType.F16 or SafeTensorDType.F32))
            {
                throw new CheckpointFormatException(file.FilePath, info.Name, $"dtype {info.DType} is not supported for weights (BF16, F16 or F32)");
            }
        }
    }

    private static MllamaCheckpoint OpenUnvalidated(string path)
    {
        string directory = ResolveModelDirectory(path);
        var config = MllamaConfig.Load(Path.Combine(directory, "config.json"));
        var files = new List<SafeTensorsFile>();
        try
        {
            var tensors = OpenTensors(directory, files);
            var naming = TensorNameMapping.Detect(tensors.Keys);
            var canonical = new Dictionary<string, (SafeTensorsFile, TensorInfo)>(StringComparer.Ordinal);
            foreach (var (stored, entry) in tensors)
            {
                string name = TensorNameMapping.ToCanonical(stored);
                if (!canonical.TryAdd(name, entry))
                {
                    throw new CheckpointFormatException(entry.Item1.FilePath, stored, $"tensor is stored twice (also as '{name}')");
                }
            }
            return new MllamaCheckpoint(directory, config, naming, files, canonical);
        }
        catch
        {
            foreach (var f in files)
            {
                f.Dispose();
            }
            throw;
        }
    }

    /// <summary>Resolves a model folder: the folder itself, or a hub-cache repository folder's snapshot.</summary>
    public static string ResolveModelDirectory(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!System.IO.Directory.Exists(full))
        {
            if (File.Exists(full))
            {
                throw new CheckpointFormatException(full, null, "is a file, expected a model folder (config.json, safetensors, tokenizer)");
            }
            throw new DirectoryNotFoundException($"Model folder not found: {full}");
        }
        if (File.Exists(Path.Combine(full, "config.json")))
        {
            return full;
        }
        string snapshots = Path.Combine(full, "snapshots");
        if (System.IO.Directory.Exists(snapshots))
        {
            string refMain = Path.Combine(full, "refs", "main");
            if (File.Exists(refMain))
            {
                string revision = BoundedFile.ReadAllText(refMain, BoundedFile.MaxRefBytes, "hub cache reference").Trim();
                string snapshot = Path.Combine(snapshots, revision);
                if (File.Exists(Path.Combine(snapshot, "config.json")))
                {
                    return snapshot;
                }
            }
            var candidates = System.IO.Directory.GetDirectories(snapshots).Where(d => File.Exists(Path.Combine(d, "config.json"))).ToArray();
            if (candidates.Length == 1)
            {
                return candidates[0];
            }
            throw new CheckpointFormatException(full, null,
                candidates.Length == 0 ? "hub cache folder has no snapshot with a config.json" : "hub cache folder has several snapshots and no refs/main; pass the snapshot folder");
        }
        throw new CheckpointFormatException(full, null, "no config.json in the model folder");
    }

    private static Dictionary<string, (SafeTensorsFile, TensorInfo)> OpenTensors(string directory, List<SafeTensorsFile> files)
    {
        var result = new Dictionary<string, (SafeTensorsFile, TensorInfo)>(StringComparer.Ordinal);
        string index = Path.Combine(directory, "model.safetensors.index.json");
        string single = Path.Combine(directory, "model.safetensors");
        if (File.Exists(index))
        {
            var weightMap = ReadWeightMap(index);
            foreach (string shard in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                if (shard.Length == 0 || shard.Contains('/') || shard.Contains('\\') || shard.Contains("..") || shard.Contains('\0'))
                {
                    throw new CheckpointFormatException(index, null, $"shard name '{shard}' is not a plain file name");
                }
                string shardPath = Path.Combine(directory, shard);
                if (!File.Exists(shardPath))
                {
                    throw new CheckpointFormatException(index, null, $"shard '{shard}' listed in weight_map does not exist ({shardPath})",
                        new FileNotFoundException("Shard not found", shardPath));
                }
                files.Add(SafeTensorsFile.Open(shardPath));
            }
            var byName = files.ToDictionary(f => Path.GetFileName(f.FilePath), StringComparer.Ordinal);
            foreach (var (tensor, shard) in weightMap)
            {
                var file = byName[shard];
                if (!file.TryGetInfo(tensor, out var info))
                {
                    throw new CheckpointFormatException(file.FilePath, tensor, "listed in model.safetensors.index.json but missing from the shard");
                }
                result[tensor] = (file, info);
            }
            foreach (var file in files)
            {
                foreach (string name in file.TensorNames)
                {
                    if (!weightMap.TryGetValue(name, out var shard) || shard != Path.GetFileName(file.FilePath))
                    {
                        throw new CheckpointFormatException(file.FilePath, name, "stored in the shard but not mapped to it by model.safetensors.index.json");
                    }
                }
            }
        }
        else if (File.Exists(single))
        {
            var file = SafeTensorsFile.Open(single);
            files.Add(file);
            foreach (var info in file.Tensors)
            {
                result[info.Name] = (file, info);
            }
        }
        else
        {
            throw new CheckpointFormatException(directory, null, "neither model.safetensors nor model.safetensors.index.json is present");
        }
        return result;
    }

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        try
        {
            using var document = JsonDocument.Parse(BoundedFile.ReadAllBytes(indexPath, BoundedFile.MaxIndexBytes, "shard index"));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(indexPath, null, "index is not a JSON object");
            }
            if (!document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(indexPath, null, "missing object 'weight_map'");
            }
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                {
                    throw new CheckpointFormatException(indexPath, entry.Name, "weight_map value is not a file name");
                }
                if (!result.TryAdd(entry.Name, entry.Value.GetString()!))
                {
                    throw new CheckpointFormatException(indexPath, entry.Name, "weight_map lists the tensor twice");
                }
            }
            if (result.Count == 0)
            {
                throw new CheckpointFormatException(indexPath, null, "weight_map is empty");
            }
            return result;
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(indexPath, null, $"index is not valid JSON ({e.Message})", e);
        }
    }

    public bool Contains(string canonicalName) => _tensors.ContainsKey(canonicalName);

    public TensorInfo GetInfo(string canonicalName) => Get(canonicalName).Info;

    /// <summary>A weight matrix used in place from the map (see <see cref="SafeTensorsFile.GetMatrix"/>).</summary>
    public WeightMatrix GetMatrix(string canonicalName)
    {
        var (file, info) = Get(canonicalName);
        return file.GetMatrix(info.Name);
    }

    /// <summary>A float32 copy (small tensors: norms, biases, gates, embeddings that are gathered).</summary>
    public float[] ReadSingles(string canonicalName)
    {
        var (file, info) = Get(canonicalName);
        return file.ReadSingles(info.Name);
    }

    /// <summary>The single value of a one-element tensor (gates).</summary>
    public float ReadScalar(string canonicalName)
    {
        var values = ReadSingles(canonicalName);
        return values.Length == 1 ? values[0] : throw new CheckpointFormatException(Get(canonicalName).File.FilePath, canonicalName, $"expected one value, found {values.Length}");
    }

    private (SafeTensorsFile File, TensorInfo Info) Get(string canonicalName) =>
        _tensors.TryGetValue(canonicalName, out var entry)
            ? entry
            : throw new CheckpointFormatException(Directory, TensorNameMapping.ToStored(canonicalName, Naming), "tensor is missing from the checkpoint");

    /// <summary>Files opened for this checkpoint's model besides its own (the int8 sidecar), released with it.</summary>
    private readonly List<IDisposable> _companions = [];

    /// <summary>Ties <paramref name="companion"/> (a file whose maps the model uses) to this checkpoint's lifetime.</summary>
    public void AddCompanion(IDisposable companion)
    {
        ArgumentNullException.ThrowIfNull(companion);
        lock (_companions)
        {
            _companions.Add(companion);
        }
    }

    public void Dispose()
    {
        foreach (var file in _files)
        {
            file.Dispose();
        }
        lock (_companions)
        {
            foreach (var companion in _companions)
            {
                companion.Dispose();
            }
            _companions.Clear();
        }
    }
}
