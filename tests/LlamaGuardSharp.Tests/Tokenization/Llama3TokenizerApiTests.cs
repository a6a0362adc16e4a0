using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Tests.Tokenization;

public sealed class Llama3TokenizerApiTests
{
    private static Llama3Tokenizer Tokenizer => TokenizerGoldens.Tokenizer;

    [Theory]
    [InlineData("<|begin_of_text|>", Llama3TokenIds.BeginOfText)]
    [InlineData("<|end_of_text|>", Llama3TokenIds.EndOfText)]
    [InlineData("<|start_header_id|>", Llama3TokenIds.StartHeader)]
    [InlineData("<|end_header_id|>", Llama3TokenIds.EndHeader)]
    [InlineData("<|eom_id|>", Llama3TokenIds.EndOfMessage)]
    [InlineData("<|eot_id|>", Llama3TokenIds.EndOfTurn)]
    [InlineData("<|image|>", Llama3TokenIds.Image)]
    public void SpecialTokenConstantsMatchTheTokenizer(string text, int id)
    {
        Assert.True(Tokenizer.TryGetSpecialTokenId(text, out int actual));
        Assert.Equal(id, actual);
        Assert.Equal([id], Tokenizer.Encode(text, recognizeSpecialTokens: true));
        Assert.Equal(text, Tokenizer.GetTokenText(id));
    }

    [Theory]
    [InlineData("safe", Llama3TokenIds.Safe)]
    [InlineData("unsafe", Llama3TokenIds.Unsafe)]
    [InlineData("\n\n", Llama3TokenIds.DoubleNewline)]
    [InlineData("\n", Llama3TokenIds.Newline)]
    public void AnswerTokenConstantsMatchTheTokenizer(string text, int id)
    {
        Assert.Equal([id], Tokenizer.Encode(text, recognizeSpecialTokens: false));
        Assert.Equal(text, Tokenizer.GetTokenText(id));
    }

    [Fact]
    public void VocabularySizeCoversImageToken() => Assert.Equal(128_257, Tokenizer.VocabularySize);

    [Fact]
    public void UnknownIdsAreRejectedWithTheId()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Decode([9906, 128_257]));
        Assert.Contains("128257", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.DecodeToBytes([-1]));
        Assert.Null(Tokenizer.GetTokenText(-1));
        Assert.Null(Tokenizer.GetTokenText(128_257));
        Assert.False(Tokenizer.TryGetSpecialTokenId("<|not_a_token|>", out _));
    }

    [Fact]
    public void PartialUtf8DecodesToReplacementCharacter()
    {
        int[] ids = Tokenizer.Encode("中", recognizeSpecialTokens: false);
        Assert.Equal([0xE4, 0xB8, 0xAD], Tokenizer.DecodeToBytes(ids));
        // A token holding only the lead byte 0xE4 decodes to U+FFFD.
        int lead = TokenizerGoldens.MergeTables.Vocabulary.Find([0xE4]);
        Assert.True(lead >= 0);
        Assert.Equal("\uFFFD", Tokenizer.Decode([lead]));
        Assert.Equal("\uFFFD", Tokenizer.GetTokenText(lead));
    }

    // A [Fact] rather than [InlineData]: xunit's test-case serialisation would replace lone surrogates with U+FFFD.
    [Fact]
    public void LoneSurrogatesAreRejectedWithTheirIndex()
    {
        (string Text, bool Special, int Index)[] cases =
        [
            ("ab\uD800c", false, 2),
            ("ab\uDC00", false, 2),
            ("x\uD83D", false, 1),                  // high surrogate at the very end
            ("\uD83D\uDE00\uDE00", false, 2),        // valid pair followed by a stray low surrogate
            ("<|eot_id|>x\uDC00y", true, 11),       // index is relative to the whole string, not the segment
            ("<|eot_id|>x\uDC00y", false, 11),
        ];
        foreach (var (text, special, index) in cases)
        {
            var e = Assert.Throws<ArgumentException>(() => Tokenizer.Encode(text, special));
            Assert.Contains($"index {index}", e.Message);
        }
    }

    [Fact]
    public void EncodeNeverAddsBos()
    {
        Assert.Empty(Tokenizer.Encode("", recognizeSpecialTokens: true));
        Assert.NotEqual(Llama3TokenIds.BeginOfText, Tokenizer.Encode("Hello", recognizeSpecialTokens: true)[0]);
    }

    [Fact]
    public void SpanAndStringOverloadsAgree()
    {
        foreach (TokenizerGoldenCase c in TokenizerGoldens.Cases)
        {
            Assert.Equal(Tokenizer.Encode(c.Text, true), Tokenizer.Encode(c.Text.AsSpan(), true));
        }
    }

    [Fact]
    public async Task LoadAsyncMatchesLoad()
    {
        Llama3Tokenizer loaded = await Llama3Tokenizer.LoadAsync(TestDataDirectory());
        Assert.Equal(TokenizerGoldens.TokenizerJsonPath, loaded.SourcePath); // a directory prefers tokenizer.json
        TokenizerGoldenCase c = TokenizerGoldens.Case("prompt:llama_guard_prompt_classification");
        Assert.Equal(c.IdsWithSpecial, loaded.Encode(c.Text, recognizeSpecialTokens: true));
    }

    [Fact]
    public async Task LoadAsyncHonoursCancellation()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Llama3Tokenizer.LoadAsync(TokenizerGoldens.TokenizerJsonPath, cts.Token));
    }

    private static string TestDataDirectory() => Path.GetDirectoryName(TokenizerGoldens.TokenizerJsonPath)!;
}
