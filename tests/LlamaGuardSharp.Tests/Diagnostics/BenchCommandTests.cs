using System.Text.Json;
using LlamaGuardSharp.Tests.Inference;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Diagnostics;

public sealed class BenchCommandTests(TinyGuardModelFixture fixture) : IClassFixture<TinyGuardModelFixture>
{
    [Fact]
    public async Task Reports_peak_and_end_to_end_stages_as_json()
    {
        var (code, output, error) = await CliRunner.RunAsync("bench", "--model", fixture.Directory, "--no-gemm", "--runs", "1", "--json");
        Assert.True(code == 0, error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.True(root.GetProperty("peak_gflops").GetDouble() > 0);
        var e2e = root.GetProperty("end_to_end");
        Assert.True(e2e.GetProperty("seconds").GetDouble() > 0);
        Assert.InRange(e2e.GetProperty("prompt_tokens").GetInt32(), 400, 440);
        Assert.True(e2e.GetProperty("tflop").GetDouble() > 0);
        Assert.True(e2e.GetProperty("peak_rss_mb").GetDouble() > 0);
        Assert.Equal(new[] { "preprocess", "vision_and_cross_attention_states", "prefill", "decode" },
            e2e.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("name").GetString()!).ToArray());
        Assert.Contains("bench: end-to-end classification 1/1", error);
    }
}
