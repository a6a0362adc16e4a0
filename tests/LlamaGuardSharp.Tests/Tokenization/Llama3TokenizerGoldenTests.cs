using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Tests.Tokenization;

public sealed class Llama3TokenizerGoldenTests
{
    [Fact]
    public void GoldenFileHas75Cases() => Assert.Equal(75, TokenizerGoldens.Cases.Count);

    [Theory]
    [MemberData(nameof(TokenizerGoldens.CaseNames), MemberType = typeof(TokenizerGoldens))]
    public void EncodePlainMatchesGolden(string name)
    {
        TokenizerGoldenCase c = TokenizerGoldens.Case(name);
        Assert.Equal(c.IdsPlain, TokenizerGoldens.Tokenizer.Encode(c.Text, recognizeSpecialTokens: false));
    }

    [Theory]
    [MemberData(nameof(TokenizerGoldens.CaseNames), MemberType = typeof(TokenizerGoldens))]
    public void EncodeWithSpecialMatchesGolden(string name)
    {
        TokenizerGoldenCase c = TokenizerGoldens.Case(name);
        Assert.Equal(c.IdsWithSpecial, TokenizerGoldens.Tokenizer.Encode(c.Text, recognizeSpecialTokens: true));
    }

    [Theory]
    [MemberData(nameof(TokenizerGoldens.CaseNames), MemberType = typeof(TokenizerGoldens))]
    public void DecodeRoundTripsGolden(string name)
    {
        TokenizerGoldenCase c = TokenizerGoldens.Case(name);
        Llama3Tokenizer tokenizer = TokenizerGoldens.Tokenizer;
        Assert.Equal(c.Text, tokenizer.Decode(c.IdsPlain));
        Assert.Equal(c.Text, tokenizer.Decode(c.IdsWithSpecial));
        Assert.Equal(System.Text.Encoding.UTF8.GetBytes(c.Text), tokenizer.DecodeToBytes(c.IdsWithSpecial));
    }
}
