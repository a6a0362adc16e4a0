using System.CommandLine;
using LlamaGuardSharp.Cli;
using LlamaGuardSharp.Cli.Commands;

namespace LlamaGuardSharp.Tests.Tokenization;

public sealed class TokenizeCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("llamaguard-tokenize-cli-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (int ExitCode, string Output, string Error) Run(string stdin, params string[] args) =>
        Run(System.Text.Encoding.UTF8.GetBytes(stdin), args);

    private static (int ExitCode, string Output, string Error) Run(byte[] stdin, params string[] args)
    {
        var root = new RootCommand { TokenizeCommand.Create(() => new MemoryStream(stdin)) };
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = root.Parse(["tokenize", .. args]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public void WholeStdinModePrintsOneArrayWithoutBos()
    {
        TokenizerGoldenCase c = TokenizerGoldens.Case("special_inline");
        var (exit, output, _) = Run(c.Text, "--tokenizer", TokenizerGoldens.TokenizerJsonPath);
        Assert.Equal(0, exit);
        Assert.Equal("[" + string.Join(",", c.IdsPlain) + "]", output.Trim());
        (exit, output, _) = Run(c.Text, "--tokenizer", TokenizerGoldens.TokenizerJsonPath, "--special");
        Assert.Equal(0, exit);
        Assert.Equal("[" + string.Join(",", c.IdsWithSpecial) + "]", output.Trim());
    }

    [Fact]
    public void JsonLinesModeWritesOneLinePerInputInOrder()
    {
        TokenizerGoldenCase[] cases = [.. TokenizerGoldens.Cases.Take(12)];
        string stdin = string.Join("\n", cases.Select(c => System.Text.Json.JsonSerializer.Serialize(new { text = c.Text }))) + "\n\n";
        var (exit, output, error) = Run(stdin, "--tokenizer", Path.GetDirectoryName(TokenizerGoldens.TokenizerJsonPath)!, "--jsonl", "--special");
        Assert.True(exit == 0, error);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(cases.Select(c => "{\"ids\":[" + string.Join(",", c.IdsWithSpecial) + "]}"), lines);
    }

    /// <summary>The tiny tokenizer keeps the error-path tests from loading the 8 MB golden file.</summary>
    private string TinyTokenizer() => TinyTokenizerFiles.WriteTokenizerJson(_directory);

    [Fact]
    public void MalformedJsonLineNamesTheLineNumber()
    {
        string tokenizer = TinyTokenizer();
        var (exit, output, error) = Run("{\"text\": \"abc\"}\n{\"txt\": 1}\n", "--tokenizer", tokenizer, "--jsonl");
        Assert.Equal(1, exit);
        Assert.Contains("line 2", error);
        Assert.Equal("{\"ids\":[257]}", output.Trim());
        (exit, _, error) = Run("not json\n", "--tokenizer", tokenizer, "--jsonl");
        Assert.Equal(1, exit);
        Assert.Contains("line 1", error);
    }

    [Fact]
    public void LeadingByteOrderMarkIsTokenizedNotStripped()
    {
        TokenizerGoldenCase c = TokenizerGoldens.Case("bom_inside");
        Assert.Equal('\uFEFF', c.Text[0]);
        var (exit, output, error) = Run(c.Text, "--tokenizer", TokenizerGoldens.TokenizerJsonPath);
        Assert.True(exit == 0, error);
        Assert.Equal("[" + string.Join(",", c.IdsPlain) + "]", output.Trim());
    }

    [Fact]
    public void InvalidUtf8OnStdinIsAnError()
    {
        var (exit, output, error) = Run([(byte)'a', 0xFF, (byte)'b'], "--tokenizer", TinyTokenizer());
        Assert.Equal(1, exit);
        Assert.Contains("not valid UTF-8", error);
        Assert.Equal("", output);
    }

    [Fact]
    public void LoneSurrogateInJsonLineIsAnError()
    {
        var (exit, _, error) = Run("{\"text\": \"a\\ud800b\"}\n", "--tokenizer", TinyTokenizer(), "--jsonl");
        Assert.Equal(1, exit);
        Assert.Contains("line 1", error);
    }

    [Fact]
    public void MissingTokenizerFailsThroughTheRealRootCommand()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit = Program.BuildRootCommand().Parse(["tokenize", "--tokenizer", "/nonexistent/tokenizer.json"])
            .Invoke(new InvocationConfiguration { Output = output, Error = error });
        Assert.NotEqual(0, exit);
        Assert.Contains("file not found", error.ToString());
        Assert.Equal("", output.ToString());
    }
}
