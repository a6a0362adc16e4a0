using System.Globalization;
using System.Security.Cryptography;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Checkpoints;

/// <summary>
/// The int8 sidecar of a checkpoint (docs/int8.md): one safetensors file, written once by <c>llamaguard quantize</c>,
/// holding every linear layer of the vision encoder, the projector and the text decoder as per-output-channel symmetric
/// int8 in the <see cref="Int8Weights"/> panel layout. For each quantized weight <c>NAME</c> (canonical name, e.g.
/// <c>language_model.model.layers.0.mlp.down_proj.weight</c>):
/// <list type="bullet">
/// <item><c>NAME.qweight</c> I8 [⌈N/8⌉, ⌈K/4⌉, 32]: the packed bytes;</item>
/// <item><c>NAME.scale</c> F32 [N]: the dequantization scales;</item>
/// <item><c>NAME.rowsum</c> I32 [N]: Σ_k q[n, k] (the unsigned-offset compensation).</item>
/// </list>
/// The header's <c>__metadata__</c> carries <c>format</c> = <see cref="Format"/>, <c>layout_version</c> =
/// <see cref="Int8Weights.LayoutVersion"/> and <c>source_config_sha256</c> (the SHA-256 of the checkpoint's config.json),
/// all checked on load together with every tensor's presence, dtype and shape. The weights stay memory-mapped.
/// </summary>
internal sealed class Int8Sidecar : IDisposable
{
    public const string FileName = "llamaguard-int8.safetensors";
    public const string Format = "llamaguard-int8";

    private readonly SafeTensorsFile _file;
    private readonly HashSet<string> _names;

    private Int8Sidecar(SafeTensorsFile file, HashSet<string> names)
    {
        _file = file;
        _names = names;
    }

    /// <summary>The sidecar file.</summary>
    public string FilePath => _file.FilePath;

    /// <summary>Bytes of the sidecar file.</summary>
    public long FileLength => _file.FileLength;

    /// <summary>Whether <paramref name="canonicalName"/> is quantized here.</summary>
    public bool Contains(string canonicalName) => _names.Contains(canonicalName);

    /// <summary>
    /// The weights that are quantized, with their (rows, cols): every linear layer of the vision transformer layers
    /// (q, k, v, o, fc1, fc2), the projector, every decoder layer's attention (self or cross) and MLP projections, and
    /// lm_head. The patch embedding (the first layer, K = 588) and the token embedding (rows are gathered, not
    /// multiplied) stay in the checkpoint's type.
    /// </summary>
    public static IReadOnlyList<(string Name, int Rows, int Cols)> QuantizedWeights(MllamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var list = new List<(string, int, int)>();
        var v = config.Vision;
        int d = v.HiddenSize, f = v.IntermediateSize;
        foreach (string prefix in Enumerable.Range(0, v.NumHiddenLayers).Select(i => $"vision_model.transformer.layers.{i}.")
                     .Concat(Enumerable.Range(0, v.NumGlobalLayers).Select(i => $"vision_model.global_transformer.layers.{i}.")))
        {
            list.AddRange([(prefix + "self_attn.q_proj.weight", d, d), (prefix + "self_attn.k_proj.weight", d, d),
                (prefix + "self_attn.v_proj.weight", d, d), (prefix + "self_attn.o_proj.weight", d, d),
                (prefix + "mlp.fc1.weight", f, d), (prefix + "mlp.fc2.weight", d, f)]);
        }
        list.Add(("multi_modal_projector.weight", config.Text.HiddenSize, v.VisionOutputDim));
        var t = config.Text;
        int td = t.HiddenSize, tf = t.IntermediateSize, qDim = t.NumAttentionHeads * t.HeadDim, kvDim = t.NumKeyValueHeads * t.HeadDim;
        for (int i = 0; i < t.NumHiddenLayers; i++)
        {
            string p = $"language_model.model.layers.{i}.", attn = t.IsCrossAttentionLayer(i) ? "cross_attn" : "self_attn";
            list.AddRange([($"{p}{attn}.q_proj.weight", qDim, td), ($"{p}{attn}.k_proj.weight", kvDim, td),
                ($"{p}{attn}.v_proj.weight", kvDim, td), ($"{p}{attn}.o_proj.weight", td, qDim),
                (p + "mlp.gate_proj.weight", tf, td), (p + "mlp.up_proj.weight", tf, td), (p + "mlp.down_proj.weight", td, tf)]);
        }
        // lm_head: the largest single weight every decode step streams (1.05 GB of bf16); int8 halves it.
        list.Add(("language_model.lm_head.weight", t.VocabSize, td));
        return list;
    }

    /// <summary>The SHA-256 (hex) of the checkpoint's config.json, which the sidecar records and loading compares.</summary>
    public static string ConfigFingerprint(string modelDirectory) =>
        Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(modelDirectory, "config.json"))));

    /// <summary>The sidecar path for <paramref name="path"/>: a file as it is, a folder's <see cref="FileName"/>.</summary>
    public static string ResolvePath(string path) => Directory.Exists(path) ? Path.Combine(path, FileName) : path;

    /// <summary>
    /// Quantizes every weight of <see cref="QuantizedWeights"/> of <paramref name="checkpoint"/> into a sidecar at
    /// <paramref name="path"/> (written to a temporary name and moved into place, so a cancelled run leaves no partial
    /// sidecar). <paramref name="progress"/> gets the fraction of weights done.
    /// </summary>
    public static unsafe void Write(MllamaCheckpoint checkpoint, string path, int threads, IProgress<double>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var weights = QuantizedWeights(checkpoint.Config);
        var specs = new List<TensorSpec>();
        foreach (var (name, rows, cols) in weights)
        {
            specs.Add(new TensorSpec(name + ".qweight", SafeTensorDType.I8, [Int8Weights.PaddedRows(rows) / 8, Int8Weights.PaddedCols(cols) / 4, 32]));
            specs.Add(new TensorSpec(name + ".scale", SafeTensorDType.F32, [rows]));
            specs.Add(new TensorSpec(name + ".rowsum", SafeTensorDType.I32, [rows]));
        }
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["layout_version"] = Int8Weights.LayoutVersion.ToString(CultureInfo.InvariantCulture),
            ["source_config_sha256"] = ConfigFingerprint(checkpoint.Directory),
            ["quantization"] = "per-output-channel symmetric int8, fp32 scales (scale = max|w| / 127, round half to even)",
        };
        string temporary = path + ".partial";
        sbyte[]? packed = null;
        float[]? scales = null;
        int[]? rowSums = null;
        int done = 0;
        try
        {
            SafeTensorsWriter.Write(temporary, specs, (spec, stream) =>
            {
                int index = done / 3;
                var (name, rows, cols) = weights[index];
                switch (done % 3)
                {
                    case 0:
                        WeightMatrix source = checkpoint.GetMatrix(name);
                        if (source.Rows != rows || source.Cols != cols)
                        {
                            throw new CheckpointFormatException(checkpoint.Directory, name, $"is {source.Rows}×{source.Cols}, expected {rows}×{cols}");
                        }
                        packed = new sbyte[Int8Weights.PackedBytes(rows, cols)];
                        scales = new float[rows];
                        rowSums = new int[rows];
                        try
                        {
                            Int8Weights.Quantize(source, packed, scales, rowSums, threads);
                        }
                        catch (ArgumentException e)
                        {
                            throw new CheckpointFormatException(checkpoint.Directory, name, e.Message, e);
                        }
                        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(packed.AsSpan()));
                        break;
                    case 1:
                        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(scales.AsSpan()));
                        break;
                    default:
                        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(rowSums.AsSpan()));
                        progress?.Report((index + 1.0) / weights.Count);
                        break;
                }
                done++;
            }, metadata, cancellationToken);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>
    /// Opens the sidecar at <paramref name="path"/> for <paramref name="checkpoint"/> and validates it: format, layout
    /// version, the config fingerprint, and every quantized weight's tensors with their dtypes and shapes (extra tensors
    /// are refused too); the scales must be finite and non-negative.
    /// </summary>
    public static unsafe Int8Sidecar Open(string path, MllamaCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"No int8 sidecar at {path}: create it with `llamaguard quantize --model {checkpoint.Directory}` (docs/int8.md).", path);
        }
        var file = SafeTensorsFile.Open(path);
        try
        {
            string Meta(string key) => file.Metadata.TryGetValue(key, out var value)
                ? value
                : throw new CheckpointFormatException(path, null, $"metadata '{key}' is missing (not an int8 sidecar written by llamaguard quantize?)");
            if (Meta("format") != Format)
            {
                throw new CheckpointFormatException(path, null, $"metadata format is '{Meta("format")}', expected '{Format}'");
            }
            string version = Meta("layout_version");
            if (version != Int8Weights.LayoutVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw new CheckpointFormatException(path, null,
                    $"layout version {version} is not the supported {Int8Weights.LayoutVersion}: re-run `llamaguard quantize` with this version");
            }
            if (Meta("source_config_sha256") != ConfigFingerprint(checkpoint.Directory))
            {
                throw new CheckpointFormatException(path, null,
                    $"it was quantized from another checkpoint (config.json differs from {checkpoint.Directory}): re-run `llamaguard quantize`");
            }
            var weights = QuantizedWeights(checkpoint.Config);
            var expected = new HashSet<string>();
            foreach (var (name, rows, cols) in weights)
            {
                Expect(file, name + ".qweight", SafeTensorDType.I8, [Int8Weights.PaddedRows(rows) / 8, Int8Weights.PaddedCols(cols) / 4, 32]);
                Expect(file, name + ".scale", SafeTensorDType.F32, [rows]);
                Expect(file, name + ".rowsum", SafeTensorDType.I32, [rows]);
                expected.UnionWith([name + ".qweight", name + ".scale", name + ".rowsum"]);
                var scales = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetBytes(name + ".scale"));
                foreach (float s in scales)
                {
                    if (!float.IsFinite(s) || s < 0)
                    {
                        throw new CheckpointFormatException(path, name + ".scale", $"holds {s}; scales are finite and non-negative");
                    }
                }
            }
            string? extra = file.TensorNames.FirstOrDefault(n => !expected.Contains(n));
            if (extra is not null)
            {
                throw new CheckpointFormatException(path, extra, "unexpected tensor: the checkpoint's config does not quantize it");
            }
            return new Int8Sidecar(file, weights.Select(w => w.Name).ToHashSet());
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static void Expect(SafeTensorsFile file, string name, SafeTensorDType type, long[] shape)
    {
        if (!file.TryGetInfo(name, out var info))
        {
            throw new CheckpointFormatException(file.FilePath, name, "tensor is missing from the int8 sidecar");
        }
        if (info.DType != type || !info.Shape.SequenceEqual(shape))
        {
            throw new CheckpointFormatException(file.FilePath, name,
                $"is {info.DType} {info.ShapeText}, expected {type} [{string.Join(", ", shape)}]");
        }
    }

    /// <summary>The int8 matrix of <paramref name="canonicalName"/> (rows × cols as in the checkpoint), used in place.</summary>
    public unsafe WeightMatrix GetMatrix(string canonicalName, int rows, int cols) => new(
        _file.GetPointer(canonicalName + ".qweight"), rows, cols,
        (float*)_file.GetPointer(canonicalName + ".scale"), (int*)_file.GetPointer(canonicalName + ".rowsum"), this);

    public void Dispose() => _file.Dispose();
}
