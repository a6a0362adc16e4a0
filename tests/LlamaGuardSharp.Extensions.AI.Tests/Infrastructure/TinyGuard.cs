using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Tests.Shared;

namespace LlamaGuardSharp.Extensions.AI.Tests.Infrastructure;

/// <summary>The real <see cref="GuardModel"/> on the golden tiny checkpoint, loaded once for the test collection.</summary>
public sealed class TinyGuard() : TinyGuardFixture("lgs-ext-tiny", Options)
{
    /// <summary>tests/data/golden, found above the test binary.</summary>
    public static string GoldenDir { get; } = DataPath("golden");

    /// <summary>Short generations keep the tests fast; the verdict grammar needs no more for the tiny model's output.</summary>
    public static GuardModelOptions Options { get; } = new() { MaxNewTokens = 8, PrefetchWeights = false };
}

[CollectionDefinition(Name)]
public sealed class TinyGuardCollection : ICollectionFixture<TinyGuard>
{
    public const string Name = "tiny guard";
}
