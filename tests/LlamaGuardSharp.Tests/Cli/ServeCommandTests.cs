
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Cli;

/// <summary><c>llamaguard serve</c>'s user errors: one <c>error:</c> line, exit 1, no server started. (The running service
/// is tested in LlamaGuardSharp.Server.Tests and end to end by .ci/checks/20-serve-interop.sh.)</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public async Task Missing_model_folder_is_a_one_line_error()
    {
        var (exit, _, err) = await CliRunner.RunAsync("serve", "--model", "/nonexistent/lgs-model", "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, exit);
        Assert.StartsWith("error: ", err);
        Assert.Contains("/nonexistent/lgs-model", err);
    }

    [Fact]
    public async Task A_repository_id_that_is_not_cached_says_how_to_get_it()
    {
        var (exit, _, err) = await CliRunner.RunAsync("serve", "--model", "lgs-tests/not-a-cached-model-7f3a", "--urls", "http://127.0.0.1:0");
        Assert.Equal(1, exit);
        Assert.StartsWith("error: ", err);
        Assert.Contains("lgs-tests/not-a-cached-model-7f3a", err);
        Assert.Contains("download", err);
    }

    [Theory]
    [InlineData("--max-queue", "-1", "MaxQueue")]
    [InlineData("--threshold", "1.5", "Threshold")]
    [InlineData("--request-timeout", "0", "RequestTimeout")]
    public async Task Bad_settings_name_the_setting(string flag, string value, string setting)
    {
        var (exit, _, err) = await CliRunner.RunAsync("serve", "--model", Path.GetTempPath(), "--urls", "http://127.0.0.1:0", flag, value);
        Assert.Equal(1, exit);
        Assert.StartsWith("error: ", err);
        Assert.Contains(setting, err);
    }

    [Fact]
    public async Task Out_of_range_threads_are_refused_before_loading()
    {
        var (exit, _, err) = await CliRunner.RunAsync(
            "serve", "--model", Path.GetTempPath(), "--urls", "http://127.0.0.1:0", "--threads", "999");
        Assert.Equal(1, exit);
        Assert.StartsWith("error: ", err);
        Assert.Contains("--threads", err);
        Assert.Single(err.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task Int8_sidecar_without_int8_precision_names_the_setting()
    {
        var (exit, _, err) = await CliRunner.RunAsync("serve", "--model", Path.GetTempPath(), "--urls", "http://127.0.0.1:0", "--int8-sidecar", "/tmp");
        Assert.Equal(1, exit);
        Assert.StartsWith("error: ", err);
        Assert.Contains("Int8Sidecar", err);
    }

    [Fact]
    public async Task Help_lists_the_contract_flags()
    {
        var (exit, stdout, _) = await CliRunner.RunAsync("serve", "--help");
        Assert.Equal(0, exit);
        foreach (string flag in new[] { "--model", "--urls", "--max-queue", "--request-timeout", "--drain-timeout", "--api-key", "--threshold",
                     "--unready-when-queue-full", "--allowed-image-hosts", "--precision", "--int8-sidecar", "--layout", "--cross-attention" })
        {
            Assert.Contains(flag, stdout);
        }
    }
}
