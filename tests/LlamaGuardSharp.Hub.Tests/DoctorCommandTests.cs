using System.CommandLine;
using System.Text.Json;
using LlamaGuardSharp.Cli;

namespace LlamaGuardSharp.Hub.Tests;

/// <summary><c>llamaguard doctor</c> on the tiny synthetic model, healthy and broken in the ways users meet.</summary>
public sealed class DoctorCommandTests(TinyModelRepo model) : IClassFixture<TinyModelRepo>
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = await Program.BuildRootCommand().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private string CopyModel(TempFolder temp)
    {
        string folder = Path.Combine(temp.Path, "model");
        Directory.CreateDirectory(folder);
        foreach (string file in Directory.GetFiles(model.Folder))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }
        return folder;
    }

    private static Dictionary<string, JsonElement> Checks(JsonDocument report) =>
        report.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c);

    [Fact]
    public async Task A_healthy_model_passes_every_check_and_classify_prints_a_verdict_with_timings()
    {
        var (exit, output, error) = await RunAsync("doctor", "--model", model.Folder, "--classify", "--json");

        Assert.True(exit == 0, output + error);
        using var report = JsonDocument.Parse(output);
        Assert.True(report.RootElement.GetProperty("ok").GetBoolean());
        var checks = Checks(report);
        foreach (string name in new[] { "files", "headers", "tokenizer" })
        {
            Assert.Equal("ok", checks[name].GetProperty("status").GetString());
        }
        Assert.True(report.RootElement.GetProperty("tensors").GetInt32() > 100);
        var tokens = report.RootElement.GetProperty("tokens");
        Assert.Equal(19193, tokens.GetProperty("safe")[0].GetInt32());
        Assert.Equal(39257, tokens.GetProperty("unsafe")[0].GetInt32());
        Assert.Equal(271, tokens.GetProperty("double_newline")[0].GetInt32());
        Assert.Contains(128009, tokens.GetProperty("stop").EnumerateArray().Select(e => e.GetInt32()));
        Assert.True(report.RootElement.GetProperty("cpu").TryGetProperty("AVX2", out _));
        var classify = report.RootElement.GetProperty("classify");
        Assert.True(classify.GetProperty("verdict").GetProperty("timings_s").GetProperty("total").GetDouble() > 0);
    }

    [Fact]
    public async Task The_human_report_lists_each_check()
    {
        var (exit, output, _) = await RunAsync("doctor", "--model", model.Folder);
        Assert.Equal(0, exit);
        Assert.Contains("ok       headers", output);
        Assert.Contains("safe=19193 unsafe=39257", output);
        Assert.Contains("healthy", output);
    }

    [Fact]
    public async Task A_truncated_shard_is_a_problem_with_a_fix_and_exit_code_1()
    {
        using var temp = new TempFolder();
        string folder = CopyModel(temp);
        string shard = Path.Combine(folder, model.LargestShard.Path);
        using (var stream = new FileStream(shard, FileMode.Open))
        {
            stream.SetLength(stream.Length / 2);
        }

        var (exit, output, _) = await RunAsync("doctor", "--model", folder, "--classify", "--json");

        Assert.Equal(1, exit);
        using var report = JsonDocument.Parse(output);
        var headers = Checks(report)["headers"];
        Assert.Equal("problem", headers.GetProperty("status").GetString());
        Assert.Contains(model.LargestShard.Path, headers.GetProperty("detail").GetString());
        Assert.Contains("llamaguard download", headers.GetProperty("fix").GetString());
        Assert.Contains("skipped", report.RootElement.GetProperty("classify").GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_missing_tokenizer_and_a_dangling_cache_link_are_named()
    {
        using var temp = new TempFolder();
        string folder = CopyModel(temp);
        File.Delete(Path.Combine(folder, "tokenizer.json"));
        File.CreateSymbolicLink(Path.Combine(folder, "extra.safetensors"), "../../blobs/0000");

        var (exit, output, _) = await RunAsync("doctor", "--model", folder);

        Assert.Equal(1, exit);
        Assert.Contains("missing tokenizer.json", output);
        Assert.Contains("links to missing blobs: extra.safetensors", output);
        Assert.Contains("fix: ", output);
    }

    [Fact]
    public async Task A_tokenizer_the_load_would_refuse_is_a_problem_even_when_the_verdict_words_are_single_tokens()
    {
        // "10" made two tokens (its vocabulary entry renamed, every merge that makes or uses it dropped): safe, unsafe and
        // \n\n are unchanged, but category S10's number is no longer one token, which GuardModel.LoadAsync refuses.
        using var temp = new TempFolder();
        string folder = CopyModel(temp);
        string path = Path.Combine(folder, "tokenizer.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
        var vocab = json["model"]!["vocab"]!.AsObject();
        int ten = vocab["10"]!.GetValue<int>();
        Assert.False(vocab.ContainsKey("1x0"));
        vocab.Remove("10");
        vocab["1x0"] = ten;
        var merges = json["model"]!["merges"]!.AsArray();
        foreach (var merge in merges.Where(m => m!.AsArray().Select(part => part!.GetValue<string>()) is var parts
            && (parts.Contains("10") || string.Concat(parts) == "10")).ToList())
        {
            merges.Remove(merge);
        }
        File.WriteAllText(path, json.ToJsonString());

        var (exit, output, _) = await RunAsync("doctor", "--model", folder, "--json");

        Assert.Equal(1, exit);
        using var report = JsonDocument.Parse(output);
        var tokenizer = Checks(report)["tokenizer"];
        Assert.Equal("problem", tokenizer.GetProperty("status").GetString());
        Assert.Contains("the category number of S10 is not a single token", tokenizer.GetProperty("detail").GetString());
        Assert.Contains("safe=19193 unsafe=39257", tokenizer.GetProperty("detail").GetString());
        Assert.Equal(19193, report.RootElement.GetProperty("tokens").GetProperty("safe")[0].GetInt32());
    }

    [Fact]
    public async Task An_unfinished_download_next_to_a_cached_snapshot_is_a_warning()
    {
        using var temp = new TempFolder();
        string repo = Path.Combine(temp.Path, "models--org--m");
        string snapshot = Path.Combine(repo, "snapshots", new string('a', 40));
        Directory.CreateDirectory(snapshot);
        Directory.CreateDirectory(Path.Combine(repo, "blobs"));
        foreach (string file in Directory.GetFiles(model.Folder))
        {
            File.Copy(file, Path.Combine(snapshot, Path.GetFileName(file)));
        }
        File.WriteAllBytes(Path.Combine(repo, "blobs", new string('b', 64) + ".incomplete"), new byte[10]);

        var (exit, output, _) = await RunAsync("doctor", "--model", snapshot, "--json");

        Assert.Equal(0, exit);
        using var report = JsonDocument.Parse(output);
        var cache = Checks(report)["cache"];
        Assert.Equal("warning", cache.GetProperty("status").GetString());
        Assert.Contains("1 unfinished download", cache.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_repo_id_not_in_the_cache_is_a_user_error()
    {
        var (exit, _, error) = await RunAsync("doctor", "--model", "test-org/Not-Cached-Anywhere-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(1, exit);
        Assert.StartsWith("error: ", error);
        Assert.Contains("llamaguard download", error);
    }
}
