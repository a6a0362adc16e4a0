using System.Text;
using CsCheck;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Tests.Tokenization;

public sealed class Llama3TokenizerPropertyTests
{
    [Fact]
    public void DecodeInvertsEncodeOnRandomUnicode() =>
        UnicodeStringGen.Text(60).Sample(text =>
        {
            Llama3Tokenizer tokenizer = TokenizerGoldens.Tokenizer;
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, recognizeSpecialTokens: false)));
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, recognizeSpecialTokens: true)));
        }, iter: 3000);

    [Fact]
    public void DecodeInvertsEncodeWithSpecialTokensMixedIn() =>
        Gen.Select(UnicodeStringGen.Text(20), Gen.OneOfConst("<|eot_id|>", "<|image|>", "<|begin_of_text|>", "<|eot_id", "|>"),
                UnicodeStringGen.Text(20))
            .Sample((a, special, b) =>
            {
                Llama3Tokenizer tokenizer = TokenizerGoldens.Tokenizer;
                string text = a + special + b;
                Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, recognizeSpecialTokens: true)));
                int[] plain = tokenizer.Encode(text, recognizeSpecialTokens: false);
                Assert.DoesNotContain(plain, id => id >= 128000);
                Assert.Equal(text, tokenizer.Decode(plain));
            }, iter: 1000);

    /// <summary>The quadratic merge loop (short pre-tokens) and the heap one (long pre-tokens) are the same algorithm.</summary>
    [Fact]
    public void ShortAndLongMergeLoopsAgree()
    {
        Llama3Tokenizer tokenizer = TokenizerGoldens.Tokenizer;
        var (vocabulary, merges) = TokenizerGoldens.MergeTables;
        Gen.Frequency(
                (3, UnicodeStringGen.Text(40).Select(s => Encoding.UTF8.GetBytes(s))),
                (1, Gen.Byte.Array[1, 80]),
                (1, Gen.OneOfConst((byte)'a', (byte)' ', (byte)'\n', (byte)'=').Array[1, 80]))
            .Where(bytes => bytes.Length > 0)
            .Sample(bytes =>
            {
                var shortIds = new TokenIdBuffer(8);
                var longIds = new TokenIdBuffer(8);
                try
                {
                    BytePairMerger.MergeShort(bytes, vocabulary, merges, ref shortIds);
                    BytePairMerger.MergeLong(bytes, vocabulary, merges, ref longIds);
                    Assert.Equal(shortIds.Span.ToArray(), longIds.Span.ToArray());
                    Assert.Equal(bytes, tokenizer.DecodeToBytes(shortIds.Span));
                }
                finally
                {
                    shortIds.Dispose();
                    longIds.Dispose();
                }
            }, iter: 2000);
    }

    [Fact]
    public void LongPreTokensUseTheHeapLoopAndRoundTrip()
    {
        Llama3Tokenizer tokenizer = TokenizerGoldens.Tokenizer;
        string word = string.Concat(Enumerable.Repeat("pneumonoultramicroscopicsilicovolcanoconiosis", 70));
        byte[] bytes = Encoding.UTF8.GetBytes(word);
        Assert.True(bytes.Length > BytePairMerger.ShortLimit);
        int[] ids = tokenizer.Encode(word, recognizeSpecialTokens: false);
        Assert.Equal(word, tokenizer.Decode(ids));
        Assert.True(ids.Length < word.Length / 2, $"long word was not merged ({ids.Length} ids)");
        var (vocabulary, merges) = TokenizerGoldens.MergeTables;
        var reference = new TokenIdBuffer(8);
        try
        {
            BytePairMerger.MergeShort(bytes, vocabulary, merges, ref reference);
            Assert.Equal(reference.Span.ToArray(), ids);
        }
        finally
        {
            reference.Dispose();
        }
    }

    [Fact]
    public void ConcurrentEncodingGivesTheSameIds()
    {
        Llama3Tokenizer tokenizer = TokenizerGoldens.Tokenizer;
        IReadOnlyList<TokenizerGoldenCase> cases = TokenizerGoldens.Cases;
        Parallel.For(0, 4 * cases.Count, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            TokenizerGoldenCase c = cases[i % cases.Count];
            Assert.Equal(c.IdsWithSpecial, tokenizer.Encode(c.Text, recognizeSpecialTokens: true));
        });
    }
}
