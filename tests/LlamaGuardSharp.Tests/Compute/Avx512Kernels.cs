using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Tests.Compute;

/// <summary>
/// The tests of the AVX-512 kernels. Where the host has no AVX-512 the kernels' callers take the portable fallback, so
/// such a test would only compare the fallback against the scalar reference and pass without testing its kernel: it is
/// skipped instead, with the reason in the test report. With <c>LLAMAGUARD_REQUIRE_AVX512=1</c> (the CI check
/// .ci/checks/40-avx512-kernels.sh sets it on AVX-512 hosts) nothing is skipped and <see cref="Require"/> fails a test
/// that does not get the AVX-512 path.
/// </summary>
public static class Avx512Kernels
{
    /// <summary>The environment variable that turns a skip into a failure.</summary>
    public const string RequireVariable = "LLAMAGUARD_REQUIRE_AVX512";

    /// <summary>Whether the kernels' AVX-512 paths run here (the condition they test themselves).</summary>
    public static bool Available => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>The skip reason of an AVX-512 kernel test on this host; null when it runs.</summary>
    public static string? SkipReason(string variant) => Available || Required
        ? null
        : $"SKIPPED: no AVX-512 on this host, so the {variant} is not exercised (its callers take the portable fallback).";

    /// <summary>The display name: the test, then the kernel variant it tests.</summary>
    public static string Name(string test, string variant) => $"{test} [AVX-512 {variant}]";

    /// <summary>First line of every AVX-512 kernel test: fails when the AVX-512 path is not what runs.</summary>
    public static void Require() => Assert.True(Available,
        $"This test checks an AVX-512 kernel, but AVX-512 is not available to the runtime here ({RequireVariable}=1 requires it).");
}

/// <summary>A fact about an AVX-512 kernel (<see cref="Avx512Kernels"/>): named after <c>variant</c>, skipped loudly without AVX-512.</summary>
public sealed class Avx512FactAttribute : FactAttribute
{
    public Avx512FactAttribute(string variant, [CallerMemberName] string test = "")
    {
        DisplayName = Avx512Kernels.Name(test, variant);
        Skip = Avx512Kernels.SkipReason(variant);
    }
}

/// <summary>A theory about an AVX-512 kernel (<see cref="Avx512Kernels"/>): named after <c>variant</c>, skipped loudly without AVX-512.</summary>
public sealed class Avx512TheoryAttribute : TheoryAttribute
{
    public Avx512TheoryAttribute(string variant, [CallerMemberName] string test = "")
    {
        DisplayName = Avx512Kernels.Name(test, variant);
        Skip = Avx512Kernels.SkipReason(variant);
    }
}
