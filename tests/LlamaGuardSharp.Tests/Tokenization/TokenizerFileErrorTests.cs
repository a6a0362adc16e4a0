using System.Text.Json.Nodes;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Tests.Tokenization;

/// <summary>Malformed or unsupported tokenizer files produce <see cref="TokenizerFormatException"/> naming the file and problem.</summary>
public sealed class TokenizerFileErrorTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "llamaguard-tokenizer-errors-" + Guid.NewGuid().ToString("N"));

    public TokenizerFileErrorTests() => Directory.CreateDirectory(_directory);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, string content)
    {
        string path = Path.Combine(_directory, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static TokenizerFormatException AssertFails(string path, string problemFragment)
    {
        var e = Assert.Throws<TokenizerFormatException>(() => Llama3Tokenizer.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(problemFragment, e.Problem);
        return e;
    }

    /// <summary>A tiny valid tiktoken file: the 256 single bytes plus "ab" (and nothing else).</summary>
    private static string TinyTiktoken(params string[] extraLines)
    {
        var lines = Enumerable.Range(0, 256).Select(b => Convert.ToBase64String([(byte)b]) + " " + b).ToList();
        lines.Add(Convert.ToBase64String("ab"u8.ToArray()) + " 256");
        lines.AddRange(extraLines);
        return string.Join("\n", lines) + "\n";
    }

    [Fact]
    public void MissingFile() => AssertFails(Path.Combine(_directory, "nope.json"), "file not found");

    [Fact]
    public void DirectoryWithoutTokenizer() => AssertFails(_directory, "neither tokenizer.json nor tokenizer.model");

    [Fact]
    public async Task MissingFileAsync() =>
        await Assert.ThrowsAsync<TokenizerFormatException>(() => Llama3Tokenizer.LoadAsync(Path.Combine(_directory, "nope.model")));

    [Fact]
    public void TruncatedJson() => AssertFails(Write("tokenizer.json", "{\"model\": {\"vocab\": {\"a\": 0"), "not valid JSON");

    [Fact]
    public void JsonWithoutModel() => AssertFails(Write("tokenizer.json", "{\"added_tokens\": []}"), "missing object 'model'");

    [Fact]
    public void TinyTokenizerJsonLoadsAndMerges()
    {
        // Positive control for the JSON error tests: the unmodified tiny file loads and applies both merge formats.
        Llama3Tokenizer tokenizer = Llama3Tokenizer.Load(TinyTokenizerFiles.WriteTokenizerJson(_directory));
        Assert.Equal([257, 256, (byte)'d'], tokenizer.Encode("abcabd", recognizeSpecialTokens: false));
        Assert.Equal([256, 259], tokenizer.Encode("ab<|eot_id|>", recognizeSpecialTokens: true));
        Assert.Equal(260, tokenizer.VocabularySize);
    }

    [Fact]
    public void JsonWithAnotherPreTokenizer()
    {
        JsonObject json = TinyTokenizerFiles.TokenizerJson();
        json["pre_tokenizer"] = JsonNode.Parse("{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}");
        AssertFails(TinyTokenizerFiles.WriteTokenizerJson(_directory, json), "unsupported pre-tokenizer");
    }

    [Fact]
    public void JsonMergeWithUnknownToken()
    {
        JsonObject json = TinyTokenizerFiles.TokenizerJson();
        json["model"]!["merges"]!.AsArray().Insert(0, JsonNode.Parse("[\"a\", \"zzzz_not_a_token\"]"));
        AssertFails(TinyTokenizerFiles.WriteTokenizerJson(_directory, json), "model.merges[0]");
    }

    [Fact]
    public void JsonVocabOutsideTheByteLevelAlphabet()
    {
        JsonObject json = TinyTokenizerFiles.TokenizerJson();
        json["model"]!["vocab"]!["\u4E2D"] = 300;
        AssertFails(TinyTokenizerFiles.WriteTokenizerJson(_directory, json), "not in the byte-level alphabet");
    }

    [Fact]
    public void JsonSpecialIdCollidesWithVocab()
    {
        JsonObject json = TinyTokenizerFiles.TokenizerJson();
        json["added_tokens"]!.AsArray().Add(new JsonObject { ["id"] = 256, ["content"] = "<|x|>" });
        AssertFails(TinyTokenizerFiles.WriteTokenizerJson(_directory, json), "special token id 256");
    }

    [Fact]
    public void TinyTiktokenLoadsAndMerges()
    {
        // Positive control for the error tests below: the same generator without the defect loads and merges "ab".
        Llama3Tokenizer tokenizer = Llama3Tokenizer.Load(Write("tokenizer.model", TinyTiktoken()));
        Assert.Equal([256, (byte)'c'], tokenizer.Encode("abc", recognizeSpecialTokens: false));
        Assert.Equal([257 + 9], tokenizer.Encode("<|eot_id|>", recognizeSpecialTokens: true));
    }

    [Fact]
    public void JsonAddedTokenRepeatingItsVocabEntryIsAccepted()
    {
        JsonObject json = TinyTokenizerFiles.TokenizerJson();
        json["added_tokens"]!.AsArray().Add(new JsonObject { ["id"] = 256, ["content"] = "ab" });
        Llama3Tokenizer tokenizer = Llama3Tokenizer.Load(TinyTokenizerFiles.WriteTokenizerJson(_directory, json));
        Assert.Equal([(byte)'x', 256, (byte)'y'], tokenizer.Encode("xaby", recognizeSpecialTokens: true));
        Assert.Equal("ab", tokenizer.Decode([256]));
    }

    [Fact]
    public void BadBase64Line()
    {
        var e = AssertFails(Write("tokenizer.model", TinyTiktoken("@@not*base64 257")), "line 258");
        Assert.Contains("not valid base64", e.Problem);
    }

    [Fact]
    public void NonIntegerRank() => AssertFails(Write("tokenizer.model", TinyTiktoken("Y2Q= x1")), "line 258: rank 'x1'");

    [Fact]
    public void DuplicateRank() => AssertFails(Write("tokenizer.model", TinyTiktoken("Y2Q= 256")), "rank 256 is used twice");

    [Fact]
    public void MissingSingleByte()
    {
        string content = string.Join("\n", Enumerable.Range(1, 255).Select(b => Convert.ToBase64String([(byte)b]) + " " + (b - 1)));
        AssertFails(Write("tokenizer.model", content), "single byte 0x00");
    }

    [Fact]
    public void LineWithoutRank() => AssertFails(Write("tokenizer.model", TinyTiktoken("Y2Q=")), "line 258 is not '<base64> <rank>'");
}
