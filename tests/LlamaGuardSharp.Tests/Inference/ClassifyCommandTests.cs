using System.Text.Json;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Inference;

public sealed class ClassifyCommandTests(TinyGuardModelFixture fixture) : IClassFixture<TinyGuardModelFixture>
{
    [Fact]
    public async Task Json_verdict_matches_the_library_result()
    {
        string image = TestData.Golden("images", "m_tall_300x1000.png");
        var (code, output, error) = await CliRunner.RunAsync("classify", "--model", fixture.Directory, "--user", "Describe it.",
            "--agent", "A tower.", "--image", image, "--exclude", "S2,S3", "--max-new-tokens", "12", "--json");
        Assert.True(code == 0, error);
        Assert.Contains("loading:", error); // progress goes to stderr, not stdout

        var conversation = LlamaGuardSharp.Safety.Conversation.ForResponse("Describe it.", "A tower.",
            await LlamaGuardSharp.Safety.ConversationImage.FromFileAsync(image));
        var expected = await fixture.Model.ClassifyAsync(conversation, LlamaGuardSharp.Safety.SafetyPolicy.Default.Exclude("S2", "S3"));

        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal("response_classification", root.GetProperty("task").GetString());
        Assert.Equal(expected.OutputTokenIds, root.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.Equal(expected.UnsafeProbability, root.GetProperty("unsafe_probability").GetDouble(), 12);
        Assert.Equal(expected.RawOutput, root.GetProperty("raw_output").GetString());
        Assert.Equal(11, root.GetProperty("category_probabilities").EnumerateObject().Count());
        Assert.False(root.GetProperty("category_probabilities").TryGetProperty("S2", out _));
    }

    /// <summary><c>--cross-attention</c> reaches <see cref="LlamaGuardSharp.Inference.GuardModelOptions.CrossAttentionMasking"/>:
    /// the CLI's verdict is the library's with the same masking, and the two maskings differ for a prompt whose header
    /// tokens come before the image.</summary>
    [Fact]
    public async Task Cross_attention_option_selects_the_masking()
    {
        string image = TestData.Golden("images", "m_tall_300x1000.png");
        var picture = await LlamaGuardSharp.Safety.ConversationImage.FromFileAsync(image);
        var conversation = LlamaGuardSharp.Safety.Conversation.ForPrompt("Describe it.", picture);
        var probabilities = new Dictionary<string, double>();
        foreach (var (name, masking) in new[] { ("meta", LlamaGuardSharp.Model.CrossAttentionMasking.Meta), ("hf", LlamaGuardSharp.Model.CrossAttentionMasking.HuggingFace) })
        {
            var (code, output, error) = await CliRunner.RunAsync("classify", "--model", fixture.Directory, "--user", "Describe it.",
                "--image", image, "--max-new-tokens", "4", "--cross-attention", name, "--json");
            Assert.True(code == 0, error);
            using var guard = await LlamaGuardSharp.Inference.GuardModel.LoadAsync(fixture.Directory,
                new LlamaGuardSharp.Inference.GuardModelOptions { MaxNewTokens = 4, CrossAttentionMasking = masking });
            var expected = await guard.ClassifyAsync(conversation);
            using var json = JsonDocument.Parse(output);
            probabilities[name] = json.RootElement.GetProperty("unsafe_probability").GetDouble();
            Assert.Equal(expected.UnsafeProbability, probabilities[name], 12);
        }
        Assert.NotEqual(probabilities["hf"], probabilities["meta"]);

        var (badCode, _, badError) = await CliRunner.RunAsync("classify", "--model", fixture.Directory, "--user", "Hi.", "--cross-attention", "vllm");
        Assert.NotEqual(0, badCode);
        Assert.Contains("vllm", badError);
    }

    /// <summary>The other options that change results reach the model too: the prompt limit and EXIF orientation.</summary>
    [Fact]
    public async Task Prompt_limit_and_exif_orientation_options_reach_the_model()
    {
        var (code, _, error) = await CliRunner.RunAsync("classify", "--model", fixture.Directory, "--user", "Hi.", "--max-prompt-tokens", "20");
        Assert.Equal(1, code);
        Assert.Contains("error: ", error);
        Assert.Contains("over the limit of 20", error);

        string image = TestData.Golden("images", "m_tall_300x1000.png");
        var (exifCode, output, exifError) = await CliRunner.RunAsync("classify", "--model", fixture.Directory, "--user", "Describe it.",
            "--image", image, "--max-new-tokens", "3", "--apply-exif-orientation", "--json");
        Assert.True(exifCode == 0, exifError);
        using var json = JsonDocument.Parse(output); // a PNG has no EXIF orientation: the verdict is the usual one
        var expected = await fixture.Model.ClassifyAsync(LlamaGuardSharp.Safety.Conversation.ForPrompt("Describe it.",
            await LlamaGuardSharp.Safety.ConversationImage.FromFileAsync(image)));
        Assert.Equal(expected.UnsafeProbability, json.RootElement.GetProperty("unsafe_probability").GetDouble(), 12);
    }

    [Fact]
    public async Task Both_classifies_prompt_then_response_and_encodes_the_image_once()
    {
        string image = TestData.Golden("images", "m_tall_300x1000.png");
        var (code, output, error) = await CliRunner.RunAsync("classify", "--model", fixture.Directory, "--user", "Describe it.",
            "--agent", "A tower.", "--image", image, "--max-new-tokens", "6", "--both", "--json");
        Assert.True(code == 0, error);
        var picture = await LlamaGuardSharp.Safety.ConversationImage.FromFileAsync(image);
        using var guard = await LlamaGuardSharp.Inference.GuardModel.LoadAsync(fixture.Directory,
            new LlamaGuardSharp.Inference.GuardModelOptions { MaxNewTokens = 6, ImageCacheSize = 0 });
        var expectedPrompt = await guard.ClassifyAsync(LlamaGuardSharp.Safety.Conversation.ForPrompt("Describe it.", picture));
        var expectedResponse = await guard.ClassifyAsync(LlamaGuardSharp.Safety.Conversation.ForResponse("Describe it.", "A tower.", picture));

        using var json = JsonDocument.Parse(output);
        var prompt = json.RootElement.GetProperty("prompt");
        var response = json.RootElement.GetProperty("response");
        Assert.Equal("prompt_classification", prompt.GetProperty("task").GetString());
        Assert.Equal("response_classification", response.GetProperty("task").GetString());
        Assert.Equal(expectedPrompt.OutputTokenIds, prompt.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.Equal(expectedResponse.OutputTokenIds, response.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        Assert.Equal(expectedResponse.UnsafeProbability, response.GetProperty("unsafe_probability").GetDouble(), 12);
        Assert.True(prompt.GetProperty("timings_s").GetProperty("vision").GetDouble() > 0);
        Assert.Equal(0, response.GetProperty("timings_s").GetProperty("vision").GetDouble()); // from the image cache

        var (humanCode, human, _) = await CliRunner.RunAsync("classify", "--model", fixture.Directory, "--user", "Hi.", "--agent", "Hello!",
            "--max-new-tokens", "3", "--both");
        Assert.Equal(0, humanCode);
        var lines = human.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("prompt:", lines[0]);
        Assert.StartsWith("response:", lines[1]);
    }

    [Fact]
    public async Task Input_file_classifies_every_line_with_one_model_and_reports_bad_lines()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"lgs-input-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.Copy(TestData.Golden("images", "m_tall_300x1000.png"), Path.Combine(dir, "tall.png"));
            string file = Path.Combine(dir, "conversations.jsonl");
            File.WriteAllLines(file,
            [
                """{"id": "a", "user": "How do I pick a lock?"}""",
                """{"id": "b", "user": "How do I bake bread?"}""",
                "",
                """{"id": 7, "turns": [{"role": "user", "content": "Describe it."}, {"role": "assistant", "content": "A tower."}], "image": "tall.png"}""",
                """{"user": 5}""",
                """{"user": "x", "colour": "red"}""",
                "not json",
            ]);
            var (code, output, error) = await CliRunner.RunAsync("classify", "--model", fixture.Directory, "--input", file, "--max-new-tokens", "12", "--json");
            Assert.Equal(1, code); // three bad lines
            Assert.Contains("3 classified, 3 failed", error);
            var lines = output.Trim().Split('\n').Select(l => JsonDocument.Parse(l).RootElement).ToArray();
            Assert.Equal([1, 2, 4, 5, 6, 7], lines.Select(l => l.GetProperty("line").GetInt32()));
            Assert.Equal(["a", "b", "7"], lines[..3].Select(l => l.GetProperty("id").GetString()));

            // Each verdict is the library's for that conversation; the second prompt reuses the first one's header.
            var expected = await fixture.Model.ClassifyAsync(LlamaGuardSharp.Safety.Conversation.ForPrompt("How do I bake bread?"));
            var b = lines[1].GetProperty("verdict");
            Assert.Equal(expected.OutputTokenIds, b.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
            Assert.Equal(expected.UnsafeProbability, b.GetProperty("unsafe_probability").GetDouble(), 12);
            Assert.True(b.GetProperty("reused_prompt_tokens").GetInt32() > 100);
            Assert.Equal(0, lines[0].GetProperty("verdict").GetProperty("reused_prompt_tokens").GetInt32());
            Assert.Equal("response_classification", lines[2].GetProperty("verdict").GetProperty("task").GetString());
            Assert.True(lines[2].GetProperty("verdict").GetProperty("timings_s").GetProperty("vision").GetDouble() > 0);
            Assert.Contains("\"user\" must be a string, not a number", lines[3].GetProperty("error").GetString());
            Assert.Contains("unknown key \"colour\"", lines[4].GetProperty("error").GetString());
            Assert.Contains("not valid JSON", lines[5].GetProperty("error").GetString());

            // Human-readable lines, and the options that do not combine with --input.
            var (humanCode, human, _) = await CliRunner.RunAsync("classify", "--model", fixture.Directory, "--input", file, "--max-new-tokens", "3");
            Assert.Equal(1, humanCode);
            Assert.Matches(@"^1 a: (safe|unsafe|unparseable)\b", human.Split('\n')[0]);
            Assert.StartsWith("5: error: ", human.Split('\n')[3]);
            var (mixedCode, mixedOutput, mixedError) = await CliRunner.RunAsync("classify", "--model", fixture.Directory, "--input", file, "--user", "x");
            Assert.Equal(1, mixedCode);
            Assert.Equal("", mixedOutput);
            Assert.Contains("leave out --user", mixedError);
            var (missingCode, _, missingError) = await CliRunner.RunAsync("classify", "--model", fixture.Directory, "--input", Path.Combine(dir, "none.jsonl"));
            Assert.Equal(1, missingCode);
            Assert.Contains("not found", missingError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Human_line_names_verdict_and_probability()
    {
        var (code, output, _) = await CliRunner.RunAsync("classify", "--model", fixture.Directory, "--user", "hello", "--max-new-tokens", "3");
        Assert.Equal(0, code);
        Assert.Matches(@"^(safe|unsafe|unparseable)\b.*p\(unsafe\)=\d\.\d+", output.Trim());
    }

    [Theory]
    [InlineData("missing-model")]
    [InlineData("missing-image")]
    [InlineData("unknown-category")]
    [InlineData("no-user")]
    [InlineData("both-without-agent")]
    public async Task Bad_input_is_one_error_line_and_exit_code_1(string problem)
    {
        string[] args = problem switch
        {
            "missing-model" => ["classify", "--model", Path.Combine(Path.GetTempPath(), "no-such-model-dir"), "--user", "x"],
            "missing-image" => ["classify", "--model", fixture.Directory, "--user", "x", "--image", "/no/such/image.png"],
            "unknown-category" => ["classify", "--model", fixture.Directory, "--user", "x", "--exclude", "S99"],
            "both-without-agent" => ["classify", "--model", fixture.Directory, "--user", "x", "--both"],
            _ => ["classify", "--model", fixture.Directory, "--agent", "x"],
        };
        var (code, output, error) = await CliRunner.RunAsync(args);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", error.Trim().Split('\n')[^1]);
    }
}
