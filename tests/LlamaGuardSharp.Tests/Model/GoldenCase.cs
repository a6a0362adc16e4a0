using System.Text.Json;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Model;

/// <summary>One golden case of a tiny model: its tensors (safetensors) and metadata (JSON).</summary>
public sealed class GoldenCase : IDisposable
{
    private GoldenCase(string model, string name, SafeTensorsFile tensors, JsonDocument json)
    {
        Model = model;
        Name = name;
        Tensors = tensors;
        Json = json;
    }

    public string Model { get; }

    public string Name { get; }

    internal SafeTensorsFile Tensors { get; }

    public JsonDocument Json { get; }

    public static GoldenCase Open(string model, string name)
    {
        string dir = TestData.Golden("models", model, "cases");
        return new GoldenCase(model, name, SafeTensorsFile.Open(Path.Combine(dir, name + ".safetensors")),
            JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, name + ".json"))));
    }

    /// <summary>Case names of a model, from its cases_summary.json.</summary>
    public static IReadOnlyList<string> CaseNames(string model)
    {
        using var summary = JsonDocument.Parse(File.ReadAllText(TestData.Golden("models", model, "cases_summary.json")));
        return summary.RootElement.EnumerateArray().Select(c => c.GetProperty("case").GetString()!).ToArray();
    }

    public int[] InputIds => Tensors.ReadInt64("input_ids").Select(v => checked((int)v)).ToArray();

    public bool Has(string tensor) => Tensors.Contains(tensor);

    public float[] Singles(string tensor) => Tensors.ReadSingles(tensor);

    public long[] Int64(string tensor) => Tensors.ReadInt64(tensor);

    public long[] Shape(string tensor) => Tensors.GetInfo(tensor).Shape;

    /// <summary>Image paths relative to the golden folder.</summary>
    public string[] Images => Json.RootElement.GetProperty("images").EnumerateArray().Select(e => e.GetString()!).ToArray();

    /// <summary>num_tiles of each image (the JSON stores a batch of one).</summary>
    public int[] NumTiles => Json.RootElement.GetProperty("num_tiles").EnumerateArray().SelectMany(b => b.EnumerateArray()).Select(e => e.GetInt32()).ToArray();

    public int[] GreedyIds => Json.RootElement.GetProperty("greedy").GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public void Dispose()
    {
        Tensors.Dispose();
        Json.Dispose();
    }
}
