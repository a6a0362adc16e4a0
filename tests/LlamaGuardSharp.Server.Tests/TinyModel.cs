using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Server.Tests;

/// <summary>
/// The golden tiny Mllama checkpoint (tests/data/golden/models/mllama_tiny_56) with the vendored tokenizer, assembled
/// into a model folder and loaded once for all service tests: the real engine, tiny weights.
/// </summary>
public sealed class TinyModel : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"lgs-server-tests-{Guid.NewGuid():N}");

    public GuardModel Model { get; private set; } = null!;

    /// <summary>A small real PNG from the imaging test data.</summary>
    public static byte[] Png => File.ReadAllBytes(Data("imaging", "png_bilevel.png"));

    public static string PngDataUrl => "data:image/png;base64," + Convert.ToBase64String(Png);

    public static string Data(params string[] parts)
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

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        foreach (string file in new[] { "config.json", "generation_config.json", "preprocessor_config.json", "model.safetensors" })
        {
            File.Copy(Data("golden", "models", "mllama_tiny_56", file), Path.Combine(Directory, file), overwrite: true);
        }
        foreach (string file in new[] { "tokenizer.json", "tokenizer_config.json" })
        {
            File.Copy(Data("golden", "tokenizer", file), Path.Combine(Directory, file), overwrite: true);
        }
        Model = await GuardModel.LoadAsync(Directory, new GuardModelOptions { MaxNewTokens = 8 });
    }

    public Task DisposeAsync()
    {
        Model.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class ServiceCollection : ICollectionFixture<TinyModel>
{
    public const string Name = "service on the tiny model";
}
