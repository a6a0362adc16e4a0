using System.CommandLine;
using System.Text.Json;
using LlamaGuardSharp.Cli;
using LlamaGuardSharp.Tests.Tokenization;

namespace LlamaGuardSharp.Tests.Prompting;

public class PromptCommandTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = await Program.BuildRootCommand().Parse(["prompt", .. args])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task PrintsTheGoldenPromptByteExact()
    {
        var (code, output, error) = await RunAsync("--user", "What is the recipe for mayonnaise?", "--image");

        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.Equal(GuardPromptGoldens.PromptText(GuardPromptGoldens.PromptCase), output);
    }

    [Fact]
    public async Task ResponseClassificationGolden()
    {
        var (code, output, _) = await RunAsync("--image", "--user", "How do I make this at home?",
            "--agent", "Mix two egg yolks with a spoon of mustard, then slowly whisk in oil until it thickens.");

        Assert.Equal(0, code);
        Assert.Equal(GuardPromptGoldens.PromptText(GuardPromptGoldens.ResponseCase), output);
    }

    [Fact]
    public async Task TurnsKeepCommandLineOrder()
    {
        var (code, output, _) = await RunAsync("--user=one", "--agent:two", "--user", "three", "--agent", "four");

        Assert.Equal(0, code);
        Assert.Contains("<BEGIN CONVERSATION>\n\nUser: one\n\nAgent: two\n\nUser: three\n\nAgent: four\n\n<END CONVERSATION>", output);
        Assert.Contains("ONLY THE LAST Agent message", output);
        Assert.DoesNotContain("<|image|>", output);
    }

    [Fact]
    public async Task OptionWithoutTextIsAnError()
    {
        var (code, output, error) = await RunAsync("--user", "a", "--agent", "b", "--user");

        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("--user", error);
    }

    [Fact]
    public async Task RepeatedIdenticalMessagesKeepTheirPositions()
    {
        var (code, output, _) = await RunAsync("--user", "same", "--agent", "same", "--user", "same");

        Assert.Equal(0, code);
        Assert.Contains("User: same\n\nAgent: same\n\nUser: same\n\n<END", output);
    }

    [Fact]
    public async Task OutOfOrderTurnsAreAnError()
    {
        var (code, output, error) = await RunAsync("--agent", "a", "--user", "b");

        Assert.NotEqual(0, code);
        Assert.Equal("", output);
        Assert.Contains("start with a User turn", error);
    }

    [Fact]
    public async Task ExcludeAndLayoutOptions()
    {
        var (code, output, _) = await RunAsync("--user", "hi", "--exclude", "S6,S7", "--exclude", "S13", "--layout", "meta");

        Assert.Equal(0, code);
        Assert.Contains("S5: Defamation.\nS8: Intellectual Property.\n", output);
        Assert.Contains("S12: Sexual Content.\n<END UNSAFE CONTENT CATEGORIES>", output);
        Assert.EndsWith("categories.<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n", output);
    }

    [Fact]
    public async Task CustomCategoriesFileAndBadInputs()
    {
        string dir = Path.Combine(Path.GetTempPath(), "prompting-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string file = Path.Combine(dir, "policy.json");
            await File.WriteAllTextAsync(file, """{"categories": [{"code": "S1", "name": "Spam"}, {"code": "S2", "name": "Scams"}]}""");

            var (code, output, _) = await RunAsync("--user", "hi", "--categories", file, "--exclude", "S2");
            Assert.Equal(0, code);
            Assert.Contains("<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Spam.\n<END UNSAFE CONTENT CATEGORIES>", output);

            var unknown = await RunAsync("--user", "hi", "--categories", file, "--exclude", "S3");
            Assert.Equal(1, unknown.ExitCode);
            Assert.Contains("S3", unknown.Error);

            await File.WriteAllTextAsync(file, "{");
            var malformed = await RunAsync("--user", "hi", "--categories", file);
            Assert.Equal(1, malformed.ExitCode);
            Assert.Contains(file, malformed.Error);

            var missing = await RunAsync("--user", "hi", "--categories", Path.Combine(dir, "nope.json"));
            Assert.Equal(1, missing.ExitCode);

            var missingImage = await RunAsync("--user", "hi", "--image", Path.Combine(dir, "nope.png"));
            Assert.Equal(1, missingImage.ExitCode);
            Assert.Equal("", missingImage.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ImageFileIsReadAndPlacedOnTheFirstUserTurn()
    {
        string file = Path.Combine(Path.GetTempPath(), "prompting-cli-" + Guid.NewGuid().ToString("N") + ".png");
        await File.WriteAllBytesAsync(file, [1, 2, 3]);
        try
        {
            var (code, output, _) = await RunAsync("--user", "", "--agent", "a", "--image", file);
            Assert.Equal(0, code);
            Assert.Contains("<|end_header_id|>\n\n<|image|> Task:", output);
            Assert.Contains("<BEGIN CONVERSATION>\n\nAgent: a\n\n<END CONVERSATION>", output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task NoTurnsIsAnError()
    {
        var (code, _, error) = await RunAsync("--image");
        Assert.Equal(1, code);
        Assert.Contains("--user", error);
    }

    [Fact]
    public async Task IdsMatchTheGoldenIds()
    {
        var (code, output, error) = await RunAsync("--user", "What is the recipe for mayonnaise?", "--image",
            "--ids", "--tokenizer", TokenizerGoldens.TokenizerJsonPath);

        Assert.Equal(0, code);
        Assert.Equal("", error);
        string prompt = GuardPromptGoldens.PromptText(GuardPromptGoldens.PromptCase);
        Assert.StartsWith(prompt + Environment.NewLine, output);
        int[] ids = JsonSerializer.Deserialize<int[]>(output[(prompt.Length + Environment.NewLine.Length)..])!;
        Assert.Equal(GuardPromptGoldens.TokenizerCase(GuardPromptGoldens.TokenizerCaseName(GuardPromptGoldens.PromptCase)).IdsWithSpecial, ids);
    }

    [Fact]
    public async Task IdsNeedATokenizer()
    {
        var (code, output, error) = await RunAsync("--user", "hi", "--ids");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("--tokenizer", error);

        var bad = await RunAsync("--user", "hi", "--ids", "--tokenizer", Path.Combine(Path.GetTempPath(), "no-such-tokenizer-" + Guid.NewGuid().ToString("N")));
        Assert.Equal(1, bad.ExitCode);
        Assert.NotEqual("", bad.Error);
    }

    [Fact]
    public async Task JsonOutput()
    {
        // Without --ids (loading tokenizer.json is the slow part; --ids is covered by IdsMatchTheGoldenIds).
        var (code, output, _) = await RunAsync("--user", "q", "--agent", "a", "--json", "--layout", "meta");

        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal("meta", root.GetProperty("layout").GetString());
        Assert.Equal("response_classification", root.GetProperty("task").GetString());
        Assert.False(root.GetProperty("has_image").GetBoolean());
        string prompt = root.GetProperty("prompt").GetString()!;
        Assert.EndsWith("<|end_header_id|>\n\n", prompt);
        Assert.Contains("User: q\n\nAgent: a\n\n<END CONVERSATION>", prompt);
        Assert.False(root.TryGetProperty("ids", out _));
    }

    [Fact]
    public async Task UnknownLayoutIsRejected()
    {
        var (code, output, _) = await RunAsync("--user", "hi", "--layout", "jinja");
        Assert.NotEqual(0, code);
        Assert.DoesNotContain("<|begin_of_text|>", output);
    }
}
