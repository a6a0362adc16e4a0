using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Tests.Shared;

namespace LlamaGuardSharp.Tests.Inference;

/// <summary>The golden tiny checkpoint as a complete model folder, loaded once per test class.</summary>
public sealed class TinyGuardModelFixture() : TinyGuardFixture("lgs-tiny-guard", new GuardModelOptions { MaxNewTokens = 12 });
