using System.Text.Json;
using LlamaGuardSharp.Tests.Infrastructure;
using LlamaGuardSharp.Tests.Model;

namespace LlamaGuardSharp.Tests.Cli;

public sealed class GenerateCommandTests
{
    [Fact]
    public async Task Generates_the_golden_tokens_from_prompt_text_and_images()
    {
        const string model = "mllama_tiny_56";
        using var golden = GoldenCase.Open(model, "two_images");
        string promptFile = Path.Combine(Path.GetTempPath(), $"lgs-generate-{Guid.NewGuid():N}.txt");
        File.WriteAllText(promptFile, golden.Json.RootElement.GetProperty("prompt_text").GetString());
        try
        {
            var (exit, stdout, stderr) = await CliRunner.RunAsync("generate", "--model", TestData.Golden("models", model),
                "--tokenizer", TestData.Golden("tokenizer", "tokenizer.json"), "--prompt-file", promptFile,
                "--image", TestData.Golden(golden.Images[0]), "--image", TestData.Golden(golden.Images[1]),
                "--max-new-tokens", "8", "--json", "--threads", "1");
            Assert.True(exit == 0, stderr);
            using var json = JsonDocument.Parse(stdout);
            var root = json.RootElement;
            Assert.Equal(golden.InputIds, root.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()));
            Assert.Equal(golden.GreedyIds, root.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32()));
            var top = root.GetProperty("last_logits_top").EnumerateArray().ToArray();
            Assert.Equal(16, top.Length);
            int last = golden.InputIds.Length - 1;
            var goldenIds = golden.Int64("logits_top16_ids").AsSpan(last * 16, 16).ToArray();
            var goldenValues = golden.Singles("logits_top16_values").AsSpan(last * 16, 16).ToArray();
            Assert.Equal(goldenIds.Select(v => (int)v), top.Select(p => p[0].GetInt32()));
            var tolerance = new GoldenTolerance();
            tolerance.AssertClose("cli_top16", "generate --json last_logits_top", top.Select(p => (float)p[1].GetDouble()).ToArray(), goldenValues);
        }
        finally
        {
            File.Delete(promptFile);
        }
    }

    [Fact]
    public async Task Missing_model_folder_is_an_error_on_stderr()
    {
        var (exit, stdout, stderr) = await CliRunner.RunAsync("generate", "--model", Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid()),
            "--prompt-file", TestData.Golden("README.md"), "--json");
        Assert.NotEqual(0, exit);
        Assert.Equal("", stdout);
        Assert.Contains("not found", stderr);
    }
}
