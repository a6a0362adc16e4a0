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
    public async Task Bad_input_is_one_error_line_and_exit_code_1(string problem)
    {
        string[] args = problem switch
        {
            "missing-model" => ["classify", "--model", Path.Combine(Path.GetTempPath(), "no-such-model-dir"), "--user", "x"],
            "missing-image" => ["classify", "--model", fixture.Directory, "--user", "x", "--image", "/no/such/image.png"],
            "unknown-category" => ["classify", "--model", fixture.Directory, "--user", "x", "--exclude", "S99"],
            _ => ["classify", "--model", fixture.Directory, "--agent", "x"],
        };
        var (code, output, error) = await CliRunner.RunAsync(args);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", error.Trim().Split('\n')[^1]);
    }
}
