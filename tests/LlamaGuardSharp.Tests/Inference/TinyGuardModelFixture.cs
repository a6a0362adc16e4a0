using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Inference;

/// <summary>
/// A complete HF model folder assembled from a golden tiny checkpoint and the vendored tokenizer (the golden README's
/// "Note on model folders"), loaded once per test class.
/// </summary>
public sealed class TinyGuardModelFixture : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"lgs-tiny-guard-{Guid.NewGuid():N}");

    public GuardModel Model { get; private set; } = null!;

    public static string AssembleModelFolder(string model, string destination)
    {
        System.IO.Directory.CreateDirectory(destination);
        foreach (string file in new[] { "config.json", "generation_config.json", "preprocessor_config.json", "model.safetensors" })
        {
            File.Copy(TestData.Golden("models", model, file), Path.Combine(destination, file), overwrite: true);
        }
        foreach (string file in new[] { "tokenizer.json", "tokenizer_config.json" })
        {
            File.Copy(TestData.Golden("tokenizer", file), Path.Combine(destination, file), overwrite: true);
        }
        return destination;
    }

    public async Task InitializeAsync()
    {
        AssembleModelFolder("mllama_tiny_56", Directory);
        Model = await GuardModel.LoadAsync(Directory, new GuardModelOptions { MaxNewTokens = 12 });
    }

    public Task DisposeAsync()
    {
        Model.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }
}
