using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Tests.Shared;

/// <summary>
/// The real <see cref="GuardModel"/> on a golden tiny checkpoint (tests/data/golden/models), assembled into a complete
/// HF model folder with the vendored tokenizer (the golden README's "Note on model folders") and loaded once per
/// fixture; the folder is deleted on disposal. Random weights: the generated text does not follow the Llama Guard
/// grammar, so verdicts are Unparseable, while p(unsafe) is the model's real probability.
/// </summary>
/// <remarks>The one copy of this recipe, linked into each test project (<c>&lt;Compile Include Link&gt;</c>); each project
/// derives its fixture with its own generation options.</remarks>
public abstract class TinyGuardFixture(string folderPrefix, GuardModelOptions options) : IAsyncLifetime
{
    /// <summary>The golden checkpoint the fixtures load.</summary>
    public const string TinyCheckpoint = "mllama_tiny_56";

    /// <summary>The assembled model folder (under the temp directory, unique per fixture).</summary>
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"{folderPrefix}-{Guid.NewGuid():N}");

    public GuardModel Model { get; private set; } = null!;

    /// <summary>A path under tests/data, found above the test binary.</summary>
    public static string DataPath(params string[] parts)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "data");
            if (System.IO.Directory.Exists(Path.Combine(candidate, "golden")))
            {
                return Path.Combine([candidate, .. parts]);
            }
        }
        throw new DirectoryNotFoundException("tests/data not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Copies golden checkpoint <paramref name="model"/> and the vendored tokenizer into <paramref name="destination"/>.</summary>
    /// <returns><paramref name="destination"/>.</returns>
    public static string AssembleModelFolder(string model, string destination)
    {
        System.IO.Directory.CreateDirectory(destination);
        foreach (string file in new[] { "config.json", "generation_config.json", "preprocessor_config.json", "model.safetensors" })
        {
            File.Copy(DataPath("golden", "models", model, file), Path.Combine(destination, file), overwrite: true);
        }
        foreach (string file in new[] { "tokenizer.json", "tokenizer_config.json" })
        {
            File.Copy(DataPath("golden", "tokenizer", file), Path.Combine(destination, file), overwrite: true);
        }
        return destination;
    }

    public async Task InitializeAsync()
    {
        AssembleModelFolder(TinyCheckpoint, Directory);
        Model = await GuardModel.LoadAsync(Directory, options);
    }

    public Task DisposeAsync()
    {
        Model.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }
}
