using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Checkpoints;

/// <summary>A temporary folder deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory(string tag = "ckpt")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"lgs-{tag}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Builds variants of the golden checkpoints (renamed, converted, sharded) from their raw tensor bytes.</summary>
internal static class CheckpointFixtures
{
    public static readonly string[] GoldenModels = ["mllama_tiny_56", "mllama_tiny_560"];

    public static string GoldenModel(string model) => TestData.Golden("models", model);

    /// <summary>One stored tensor: name, dtype, shape and bytes.</summary>
    public sealed record RawTensor(string Name, SafeTensorDType DType, long[] Shape, byte[] Data);

    public static List<RawTensor> ReadAll(string safetensorsPath)
    {
        using var file = SafeTensorsFile.Open(safetensorsPath);
        return file.Tensors.Select(t => new RawTensor(t.Name, t.DType, t.Shape, file.GetBytes(t.Name).ToArray())).ToList();
    }

    /// <summary>Copies the JSON files of a golden model into <paramref name="directory"/>.</summary>
    public static void CopyJsonFiles(string model, string directory)
    {
        foreach (string name in new[] { "config.json", "generation_config.json", "preprocessor_config.json" })
        {
            System.IO.File.Copy(System.IO.Path.Combine(GoldenModel(model), name), System.IO.Path.Combine(directory, name), overwrite: true);
        }
    }

    public static void Write(string path, IEnumerable<RawTensor> tensors) =>
        SafeTensorsWriter.Write(path, tensors.Select(t => (new TensorSpec(t.Name, t.DType, t.Shape), (ReadOnlyMemory<byte>)t.Data)),
            new Dictionary<string, string> { ["format"] = "pt" });

    /// <summary>bf16 bytes → float32 or float16 bytes.</summary>
    public static RawTensor Convert(RawTensor t, SafeTensorDType target)
    {
        var values = new float[t.Data.Length / 2];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BitConverter.UInt32BitsToSingle((uint)BitConverter.ToUInt16(t.Data, 2 * i) << 16);
        }
        byte[] data = target switch
        {
            SafeTensorDType.F32 => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
            SafeTensorDType.F16 => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.Select(v => (Half)v).ToArray().AsSpan()).ToArray(),
            _ => throw new ArgumentOutOfRangeException(nameof(target)),
        };
        return t with { DType = target, Data = data };
    }

    /// <summary>Writes <paramref name="tensors"/> as <paramref name="shardCount"/> shards plus an index, in the given order.</summary>
    public static void WriteSharded(string directory, IReadOnlyList<RawTensor> tensors, int shardCount)
    {
        var weightMap = new Dictionary<string, string>();
        int perShard = (tensors.Count + shardCount - 1) / shardCount;
        for (int s = 0; s < shardCount; s++)
        {
            string name = $"model-{s + 1:00000}-of-{shardCount:00000}.safetensors";
            var part = tensors.Skip(s * perShard).Take(perShard).ToList();
            Write(System.IO.Path.Combine(directory, name), part);
            foreach (var t in part)
            {
                weightMap[t.Name] = name;
            }
        }
        WriteIndex(directory, weightMap);
    }

    public static void WriteIndex(string directory, IReadOnlyDictionary<string, string> weightMap)
    {
        var index = new Dictionary<string, object>
        {
            ["metadata"] = new Dictionary<string, long> { ["total_size"] = 0 },
            ["weight_map"] = weightMap,
        };
        System.IO.File.WriteAllText(System.IO.Path.Combine(directory, "model.safetensors.index.json"), System.Text.Json.JsonSerializer.Serialize(index));
    }
}
