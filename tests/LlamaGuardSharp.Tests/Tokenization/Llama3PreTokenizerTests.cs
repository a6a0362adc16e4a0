using CsCheck;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Tests.Tokenization;

public sealed class Llama3PreTokenizerTests
{
    private static List<string> Split(string text)
    {
        var pieces = new List<string>();
        for (int position = 0; position < text.Length;)
        {
            int end = Llama3PreTokenizer.NextPreTokenEnd(text, position, 0, out _);
            Assert.True(end > position, $"no progress at {position}");
            pieces.Add(text[position..end]);
            position = end;
        }
        return pieces;
    }

    // Expected splits were produced with the Python `regex` module (2026.5.9) and the pattern string from tokenizer.json.
    [Theory]
    [InlineData("a\U00020000b", new[] { "a\U00020000b" })]                      // astral letter stays inside the \p{L}+ run
    [InlineData("x\U0001D7CE\U0001D7CF\U0001D7D0\U0001D7D1", new[] { "x", "\U0001D7CE\U0001D7CF\U0001D7D0", "\U0001D7D1" })]
    [InlineData("'\u017Fx 'Ǆ", new[] { "'\u017F", "x", " '", "Ǆ" })]             // (?i:'s) also matches LONG S
    [InlineData("I'M we'Ve it'LL", new[] { "I", "'M", " we", "'Ve", " it", "'LL" })]
    [InlineData("x\t\t!", new[] { "x", "\t", "\t", "!" })]                      // \s+(?!\S) gives back one, then \s+
    [InlineData("x  y", new[] { "x", " ", " y" })]
    [InlineData("a \n \n  b", new[] { "a", " \n \n", " ", " b" })]             // \s*[\r\n]+ ends at the last newline
    [InlineData("a  ", new[] { "a", "  " })]                                    // trailing whitespace: \s+(?!\S) at end of text
    [InlineData("end.\n\nNext", new[] { "end", ".\n\n", "Next" })]             // punctuation swallows following newlines
    [InlineData("a\u001Cb", new[] { "a", "\u001Cb" })]                          // U+001C is not \s: it prefixes the letter run
    [InlineData("\u3000x", new[] { "\u3000x" })]                                // non-ASCII whitespace can prefix letters
    [InlineData("\nx", new[] { "\n", "x" })]                                   // ... but CR/LF cannot
    [InlineData("12345", new[] { "123", "45" })]
    // Cases where .NET Regex (UTF-16 code units: astral letters/digits are "other") splits differently; these change ids.
    [InlineData("!b \U0001D7CF'", new[] { "!b", " ", "\U0001D7CF", "'" })]
    [InlineData("a\U0001D400'\U00020000'b", new[] { "a\U0001D400", "'\U00020000", "'b" })]
    [InlineData("  \U0001D7CE\U0001D400\u4E2D1", new[] { " ", " ", "\U0001D7CE", "\U0001D400\u4E2D", "1" })]
    public void SplitsLikeThePythonRegexModule(string text, string[] expected) => Assert.Equal(expected, Split(text));

    [Fact]
    public void PreTokensTileAnyText() =>
        UnicodeStringGen.Text(40).Sample(text => Assert.Equal(text, string.Concat(Split(text))), iter: 3000);

    /// <summary>
    /// "Tokenization never depends on what follows a completed pre-token", stated correctly: a pre-token is completed when the
    /// scanner decided it without looking at the end of the text (its horizon lies inside the text). Then for every suffix b,
    /// the pre-tokens of a + b start with the completed pre-tokens of a, and encode(a + b) starts with encode(completed prefix).
    /// (The naive "all but the last pre-token are stable" is false: "\n " splits as "\n"," " but "\n \n" is one pre-token.)
    /// </summary>
    [Fact]
    public void CompletedPreTokensDoNotDependOnWhatFollows()
    {
        Llama3Tokenizer tokenizer = TokenizerGoldens.Tokenizer;
        int nonTrivial = 0;
        Gen.Select(UnicodeStringGen.Text(30), UnicodeStringGen.Text(12)).Sample((a, b) =>
        {
            var completed = new List<string>();
            for (int position = 0; position < a.Length;)
            {
                int end = Llama3PreTokenizer.NextPreTokenEnd(a, position, 0, out int horizon);
                if (horizon > a.Length)
                {
                    break;
                }
                completed.Add(a[position..end]);
                position = end;
            }
            if (completed.Count > 0)
            {
                Interlocked.Increment(ref nonTrivial);
            }
            Assert.Equal(completed, Split(a + b).Take(completed.Count));
            // Each completed pre-token is encoded on its own (it is its own single pre-token), and those ids lead encode(a + b).
            var prefixIds = new List<int>();
            foreach (string piece in completed)
            {
                Assert.Equal([piece], Split(piece));
                prefixIds.AddRange(tokenizer.Encode(piece, recognizeSpecialTokens: false));
            }
            int[] allIds = tokenizer.Encode(a + b, recognizeSpecialTokens: false);
            Assert.Equal(prefixIds, allIds.Take(prefixIds.Count));
        }, iter: 2000);
        Assert.True(nonTrivial > 1000, $"only {nonTrivial} samples had a completed pre-token; the generator is too weak");
    }

    [Fact]
    public void NaiveStabilityStatementIsFalse()
    {
        Assert.Equal(["\n", " "], Split("\n "));
        Assert.Equal(["\n \n"], Split("\n \n"));
        Llama3PreTokenizer.NextPreTokenEnd("\n ", 0, 0, out int horizon);
        Assert.Equal(3, horizon); // the first pre-token of "\n " had to look at the end of the text: it is not completed
    }
}
