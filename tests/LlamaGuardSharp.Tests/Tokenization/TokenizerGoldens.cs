using System.Text.Json;
using LlamaGuardSharp.Tests.Infrastructure;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Tests.Tokenization;

/// <summary>One case of tests/data/golden/tokenizer/tokenizer_goldens.json.</summary>
public sealed record TokenizerGoldenCase(string Name, string Text, int[] IdsPlain, int[] IdsWithSpecial)
{
    public override string ToString() => Name;
}

/// <summary>Shared, lazily loaded golden data and tokenizer (loading tokenizer.json once keeps the area's tests fast).</summary>
public static class TokenizerGoldens
{
    private static readonly Lazy<Llama3Tokenizer> LazyTokenizer = new(() => Llama3Tokenizer.Load(TokenizerJsonPath));
    private static readonly Lazy<IReadOnlyList<TokenizerGoldenCase>> LazyCases = new(ReadCases);

    public static string TokenizerJsonPath => TestData.Golden("tokenizer", "tokenizer.json");

    public static Llama3Tokenizer Tokenizer => LazyTokenizer.Value;

    /// <summary>The golden tokenizer's BPE tables, read the way <see cref="Llama3Tokenizer.Load"/> reads them, for tests
    /// that compare the merge loops directly.</summary>
    internal static (TokenByteTable Vocabulary, PairMergeTable Merges) MergeTables => LazyTables.Value;

    private static readonly Lazy<(TokenByteTable, PairMergeTable)> LazyTables = new(() =>
    {
        var definition = HuggingFaceTokenizerJsonReader.Read(TokenizerJsonPath, File.ReadAllBytes(TokenizerJsonPath));
        return (definition.Vocabulary, definition.Merges);
    });

    public static IReadOnlyList<TokenizerGoldenCase> Cases => LazyCases.Value;

    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (TokenizerGoldenCase c in Cases)
        {
            data.Add(c.Name);
        }
        return data;
    }

    public static TokenizerGoldenCase Case(string name) => Cases.Single(c => c.Name == name);

    private static IReadOnlyList<TokenizerGoldenCase> ReadCases()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(TestData.Golden("tokenizer", "tokenizer_goldens.json")));
        var cases = new List<TokenizerGoldenCase>();
        foreach (JsonElement c in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            // The text is taken from the hex bytes, not the JSON string, so that nothing is normalised on the way.
            string text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true)
                .GetString(Convert.FromHexString(c.GetProperty("text_utf8_hex").GetString()!));
            cases.Add(new TokenizerGoldenCase(
                c.GetProperty("name").GetString()!,
                text,
                c.GetProperty("ids_plain").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                c.GetProperty("ids_with_special").EnumerateArray().Select(e => e.GetInt32()).ToArray()));
        }
        return cases;
    }
}
