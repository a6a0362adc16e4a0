using System.Text.Json;
using LlamaGuardSharp.Tests.Inference;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Diagnostics;

public sealed class BenchCommandTests(TinyGuardModelFixture fixture) : IClassFixture<TinyGuardModelFixture>
{
    [Fact]
    public async Task Reports_peak_and_end_to_end_stages_as_json()
    {
        var (code, output, error) = await CliRunner.RunAsync("bench", "--model", fixture.Directory, "--no-gemm", "--runs", "1", "--warmup", "1", "--json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(1, root.GetProperty("end_to_end").GetProperty("warmup_runs").GetInt32());
        Assert.True(root.GetProperty("end_to_end").GetProperty("first_run_seconds").GetDouble() > 0);
        Assert.Contains("bench: warm-up classification 1/1 (not in the medians)", error);
        Assert.True(root.GetProperty("peak_gflops").GetDouble() > 0);
        // The processor the figures belong to, in the JSON and on stderr.
        var cpu = root.GetProperty("machine").GetProperty("cpu");
        var host = LlamaGuardSharp.Diagnostics.HostCpu.Current();
        Assert.Equal(host.Vendor, cpu.GetProperty("vendor").GetString());
        Assert.Equal(host.Avx512Bf16, cpu.GetProperty("avx512_bf16").GetBoolean());
        Assert.Contains($"bench: {host}", error);
        // The reference peak is the higher of the probe readings before and after the end-to-end runs.
        double before = root.GetProperty("peak_gflops_before").GetDouble(), after = root.GetProperty("peak_gflops_after").GetDouble();
        Assert.True(before > 0 && after > 0);
        Assert.Equal(Math.Max(before, after), root.GetProperty("peak_gflops").GetDouble());
        Assert.Contains("bench: measuring the FMA peak again", error);
        var e2e = root.GetProperty("end_to_end");
        Assert.True(e2e.GetProperty("seconds").GetDouble() > 0);
        Assert.InRange(e2e.GetProperty("prompt_tokens").GetInt32(), 400, 440);
        Assert.True(e2e.GetProperty("tflop").GetDouble() > 0);
        Assert.True(e2e.GetProperty("peak_rss_mb").GetDouble() > 0);
        Assert.Equal(new[] { "preprocess", "vision_and_cross_attention_states", "prefill", "decode" },
            e2e.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToArray());
        Assert.Contains("bench: end-to-end classification 1/1", error);
    }

    [Fact]
    public async Task Profile_reports_every_kernel_of_the_warm_runs()
    {
        var (code, output, error) = await CliRunner.RunAsync("bench", "--model", fixture.Directory, "--no-gemm", "--runs", "2", "--warmup", "0", "--profile", "--json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var e2e = json.RootElement.GetProperty("end_to_end");
        var kernels = e2e.GetProperty("kernels").EnumerateArray().ToArray();
        var names = kernels.Select(k => k.GetProperty("kernel").GetString()!).ToHashSet();
        foreach (string expected in new[] { "gemm", "attention", "layernorm", "rmsnorm", "swiglu", "residual" })
        {
            Assert.Contains(expected, names);
        }
        Assert.All(kernels, k => Assert.True(k.GetProperty("seconds").GetDouble() >= 0 && k.GetProperty("calls").GetDouble() > 0));
        // Per classification: the timed kernels cannot take longer than the median classification.
        Assert.True(kernels.Sum(k => k.GetProperty("seconds").GetDouble()) <= e2e.GetProperty("seconds").GetDouble() * 1.5);
        // The fused q/k/v projections show up as one GEMM per layer, and the vision GELU inside fc2's GEMM.
        Assert.Contains(kernels, k => k.GetProperty("shape").GetString()!.Contains("(fused 3)", StringComparison.Ordinal));
        Assert.Contains(kernels, k => k.GetProperty("shape").GetString()!.Contains("(GELU of A)", StringComparison.Ordinal));
        Assert.Contains("bench: kernels per classification", error);
    }

    [Fact]
    public async Task Rejects_a_negative_warmup()
    {
        var (code, _, error) = await CliRunner.RunAsync("bench", "--model", fixture.Directory, "--no-gemm", "--warmup", "-1");
        Assert.Equal(1, code);
        Assert.Contains("--warmup must be in 0..100, not -1", error);
    }

    [Fact]
    public async Task Without_profile_there_is_no_kernel_table()
    {
        var (code, output, error) = await CliRunner.RunAsync("bench", "--model", fixture.Directory, "--no-gemm", "--runs", "1", "--warmup", "0", "--json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("end_to_end").GetProperty("kernels").ValueKind);
    }
}
