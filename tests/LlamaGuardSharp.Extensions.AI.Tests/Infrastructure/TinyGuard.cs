using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;

/// <summary>
/// The real <see cref="GuardModel"/> on the golden tiny checkpoint (random weights: its generated text does not follow
/// the Llama Guard grammar, so its verdicts are Unparseable, while p(unsafe) is the model's real probability), loaded
/// once for the test collection from a model folder assembled like the core tests' TinyGuardModelFixture.
/// </summary>
public sealed class TinyGuard : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"lgs-ext-tiny-{Guid.NewGuid():N}");

    public GuardModel Model { get; private set; } = null!;

    public static string AssembleModelFolder(string destination)
    {
        System.IO.Directory.CreateDirectory(destination);
        foreach (string file in new[] { "config.json", "generation_config.json", "preprocessor_config.json", "model.safetensors" })
        {
            File.Copy(Path.Combine(GoldenDir, "models", "mllama_tiny_56", file), Path.Combine(destination, file), overwrite: true);
        }
        foreach (string file in new[] { "tokenizer.json", "tokenizer_config.json" })
        {
            File.Copy(Path.Combine(GoldenDir, "tokenizer", file), Path.Combine(destination, file), overwrite: true);
        }
        return destination;
    }

    /// <summary>tests/data/golden, found above the test binary.</summary>
    public static string GoldenDir { get; } = FindGolden();

    public async Task InitializeAsync()
    {
        AssembleModelFolder(Directory);
        Model = await GuardModel.LoadAsync(Directory, Options);
    }

    /// <summary>Short generations keep the tests fast; the verdict grammar needs no more for the tiny model's output.</summary>
    public static GuardModelOptions Options { get; } = new() { MaxNewTokens = 8, PrefetchWeights = false };

    public Task DisposeAsync()
    {
        Model.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }

    private static string FindGolden()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "data", "golden");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("tests/data/golden not found above " + AppContext.BaseDirectory);
    }
}

[CollectionDefinition(Name)]
public sealed class TinyGuardCollection : ICollectionFixture<TinyGuard>
{
    public const string Name = "tiny guard";
}
