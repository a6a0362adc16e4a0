using System.Text.Json;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Tests.Checkpoints;
using LlamaGuardSharp.Tests.Compute;
using LlamaGuardSharp.Tests.Inference;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Cli;

/// <summary><c>llamaguard quantize</c>, <c>--precision</c> on the model-loading commands, and <c>bench --precision both</c>.</summary>
public sealed class QuantizeCommandTests
{
    [VnniFact("int8 model path")]
    public async Task Quantize_ThenClassifyAndBenchWithInt8()
    {
        VnniKernels.Require();
        using var dir = new TempDirectory("quantize");
        string model = TinyGuardModelFixture.AssembleModelFolder("mllama_tiny_56", Path.Combine(dir.Path, "model"));
        string outDir = Path.Combine(dir.Path, "int8");

        var (code, output, error) = await CliRunner.RunAsync("quantize", "--model", model, "--out", outDir, "--json");
        Assert.True(code == 0, error);
        using (var json = JsonDocument.Parse(output))
        {
            Assert.Equal(Path.Combine(outDir, Int8Sidecar.FileName), json.RootElement.GetProperty("file").GetString());
            Assert.True(json.RootElement.GetProperty("bytes").GetInt64() > 0);
        }
        Assert.Contains($"--int8-sidecar {outDir}", error);

        // Without --int8-sidecar the model folder has no sidecar: the error names the command that makes one.
        (code, _, error) = await CliRunner.RunAsync("classify", "--model", model, "--user", "Hi", "--precision", "int8");
        Assert.Equal(1, code);
        Assert.StartsWith("error: ", error.Trim().Split('\n')[^1]);
        Assert.Contains("llamaguard quantize", error);

        (code, output, error) = await CliRunner.RunAsync("classify", "--model", model, "--user", "Hi", "--precision", "int8", "--int8-sidecar", outDir, "--json");
        Assert.True(code == 0, error);
        Assert.Contains("\"verdict\"", output);

        File.Copy(Path.Combine(outDir, Int8Sidecar.FileName), Path.Combine(model, Int8Sidecar.FileName));
        (code, output, error) = await CliRunner.RunAsync("bench", "--model", model, "--no-gemm", "--runs", "1", "--warmup", "0", "--precision", "both", "--json");
        Assert.True(code == 0, error);
        using var bench = JsonDocument.Parse(output);
        var root = bench.RootElement;
        Assert.Equal("fp32", root.GetProperty("end_to_end").GetProperty("precision").GetString());
        Assert.Equal("int8", root.GetProperty("end_to_end_int8").GetProperty("precision").GetString());
        var int8 = root.GetProperty("int8");
        Assert.True(int8.GetProperty("vnni_peak_gops").GetDouble() > 0);
        Assert.True(int8.GetProperty("speedup_end_to_end").GetDouble() > 0);
        Assert.True(root.GetProperty("end_to_end_int8").GetProperty("peak_resident_including_mapped_weights_mb").GetDouble() > 0);
    }

    [Fact]
    public async Task Int8SidecarWithoutInt8Precision_IsAUserError()
    {
        var (code, _, error) = await CliRunner.RunAsync("classify", "--model", TestData.Golden("models", "mllama_tiny_56"), "--user", "Hi",
            "--int8-sidecar", "/tmp");
        Assert.Equal(1, code);
        Assert.Contains("error: --int8-sidecar applies to --precision int8", error);
    }

    [Fact]
    public async Task UnknownPrecision_IsRejected()
    {
        var (code, _, error) = await CliRunner.RunAsync("classify", "--model", TestData.Golden("models", "mllama_tiny_56"), "--user", "Hi",
            "--precision", "int4");
        Assert.NotEqual(0, code);
        Assert.Contains("int4", error);
    }
}
