namespace LlamaGuardSharp.Tokenization;

/// <summary>Everything a file loader produces: ordinary tokens, merge rules and special tokens.</summary>
internal sealed record TokenizerDefinition(
    TokenByteTable Vocabulary,
    PairMergeTable Merges,
    IReadOnlyList<SpecialToken> SpecialTokens,
    int VocabularySize,
    string SourcePath);

/// <summary>
/// A special (added) token. <paramref name="Encodable"/> is false for ids whose text maps to another id when encoding
/// (Meta's 128011 <c>&lt;|image|&gt;</c>, which is emitted as 128256); such ids still decode to their text.
/// </summary>
internal sealed record SpecialToken(string Content, int Id, bool Encodable);
