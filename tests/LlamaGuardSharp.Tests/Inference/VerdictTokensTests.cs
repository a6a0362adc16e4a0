using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tests.Checkpoints;
using LlamaGuardSharp.Tests.Tokenization;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Tests.Inference;

/// <summary>The verdict's token ids come from the loaded tokenizer, and a tokenizer that cannot give them is rejected at load.</summary>
public sealed class VerdictTokensTests
{
    [Fact]
    public void The_Llama_3_tokenizer_gives_the_ids_the_model_was_trained_with()
    {
        var tokenizer = Llama3Tokenizer.Load(TokenizerGoldens.TokenizerJsonPath);

        var tokens = VerdictTokens.Resolve(tokenizer, configuredStops: []);

        Assert.Equal(Llama3TokenIds.Safe, tokens.Safe);
        Assert.Equal(Llama3TokenIds.Unsafe, tokens.Unsafe);
        Assert.Equal(Llama3TokenIds.DoubleNewline, tokens.DoubleNewline);
        Assert.Equal([Llama3TokenIds.Unsafe, Llama3TokenIds.Newline, tokenizer.Encode("S", false).Single()], tokens.CategoryPrefix);
        Assert.Equal([Llama3TokenIds.EndOfText, Llama3TokenIds.EndOfMessage, Llama3TokenIds.EndOfTurn], tokens.StopTokens);
        Assert.True(tokens.IsStop(Llama3TokenIds.EndOfTurn));
        Assert.False(tokens.IsStop(Llama3TokenIds.Safe));
        Assert.All(SafetyPolicy.Default.Categories, c =>
            Assert.Equal(c.Code[1..], tokenizer.Decode([tokens.CategoryNumberToken(c)!.Value])));
        Assert.Null(tokens.CategoryNumberToken(new HazardCategory("C1", "Custom")));
    }

    [Fact]
    public void Configured_stop_tokens_win_and_must_be_in_the_vocabulary()
    {
        var tokenizer = Llama3Tokenizer.Load(TokenizerGoldens.TokenizerJsonPath);

        Assert.Equal([Llama3TokenIds.EndOfTurn], VerdictTokens.Resolve(tokenizer, [Llama3TokenIds.EndOfTurn]).StopTokens);
        var e = Assert.Throws<TokenizerFormatException>(() => VerdictTokens.Resolve(tokenizer, [Llama3TokenIds.EndOfTurn, 999_999]));
        Assert.Contains("stop token 999999", e.Message);
    }

    [Fact]
    public void A_tokenizer_without_single_verdict_tokens_is_rejected_naming_the_text()
    {
        using var temp = new TempDirectory("verdict-tokens");
        var tokenizer = Llama3Tokenizer.Load(TinyTokenizerFiles.WriteTokenizerJson(temp.Path));

        var e = Assert.Throws<TokenizerFormatException>(() => VerdictTokens.Resolve(tokenizer, []));

        Assert.Contains("'safe' encodes as 4 tokens, not one", e.Message);
        Assert.Contains(tokenizer.SourcePath, e.Message);
    }

    [Fact]
    public async Task Loading_a_model_with_such_a_tokenizer_fails_with_that_error()
    {
        using var temp = new TempDirectory("verdict-tokens");
        string folder = TinyGuardModelFixture.AssembleModelFolder("mllama_tiny_56", temp.File("model"));
        TinyTokenizerFiles.WriteTokenizerJson(folder);

        var e = await Assert.ThrowsAsync<TokenizerFormatException>(() => GuardModel.LoadAsync(folder));

        Assert.Contains("not a Llama Guard 3 tokenizer", e.Message);
    }
}
