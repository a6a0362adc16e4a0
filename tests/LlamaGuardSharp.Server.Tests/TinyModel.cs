using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Tests.Shared;

namespace LlamaGuardSharp.Server.Tests;

/// <summary>The golden tiny Mllama checkpoint loaded once for all service tests: the real engine, tiny weights.</summary>
public sealed class TinyModel() : TinyGuardFixture("lgs-server-tests", new GuardModelOptions { MaxNewTokens = 8 })
{
    /// <summary>A small real PNG from the imaging test data.</summary>
    public static byte[] Png => File.ReadAllBytes(DataPath("imaging", "png_bilevel.png"));

    public static string PngDataUrl => "data:image/png;base64," + Convert.ToBase64String(Png);
}

[CollectionDefinition(Name)]
public sealed class ServiceCollection : ICollectionFixture<TinyModel>
{
    public const string Name = "service on the tiny model";
}
