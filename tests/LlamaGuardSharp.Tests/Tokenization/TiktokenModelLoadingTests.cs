using System.Text;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Tests.Tokenization;

/// <summary>
/// Meta's tiktoken <c>tokenizer.model</c> path: the file is generated from the golden tokenizer.json (base64 of each token's
/// bytes + rank) into a temp directory, loaded, and must reproduce every golden.
/// </summary>
public sealed class TiktokenModelLoadingTests : IClassFixture<TiktokenModelLoadingTests.GeneratedModel>
{
    private readonly GeneratedModel _model;

    public TiktokenModelLoadingTests(GeneratedModel model) => _model = model;

    public sealed class GeneratedModel : IDisposable
    {
        public GeneratedModel()
        {
            Directory = Path.Combine(Path.GetTempPath(), "llamaguard-tiktoken-" + Guid.NewGuid().ToString("N"));
            System.IO.Directory.CreateDirectory(Directory);
            Llama3Tokenizer source = TokenizerGoldens.Tokenizer;
            var builder = new StringBuilder();
            for (int id = 0; id < 128_000; id++)
            {
                builder.Append(Convert.ToBase64String(source.DecodeToBytes([id]))).Append(' ').Append(id).Append('\n');
            }
            FilePath = Path.Combine(Directory, "tokenizer.model");
            File.WriteAllText(FilePath, builder.ToString());
            Tokenizer = Llama3Tokenizer.Load(FilePath);
        }

        public string Directory { get; }

        public string FilePath { get; }

        public Llama3Tokenizer Tokenizer { get; }

        public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
    }

    [Fact]
    public void ReproducesEveryGolden()
    {
        foreach (TokenizerGoldenCase c in TokenizerGoldens.Cases)
        {
            Assert.True(c.IdsPlain.SequenceEqual(_model.Tokenizer.Encode(c.Text, recognizeSpecialTokens: false)), c.Name + " (plain)");
            Assert.True(c.IdsWithSpecial.SequenceEqual(_model.Tokenizer.Encode(c.Text, recognizeSpecialTokens: true)), c.Name + " (special)");
            Assert.Equal(c.Text, _model.Tokenizer.Decode(c.IdsWithSpecial));
        }
    }

    [Fact]
    public void SpecialTokensFollowMetaWithImageAtTheHfId()
    {
        Llama3Tokenizer tokenizer = _model.Tokenizer;
        Assert.Equal(128_257, tokenizer.VocabularySize);
        Assert.True(tokenizer.TryGetSpecialTokenId("<|image|>", out int image));
        Assert.Equal(Llama3TokenIds.Image, image);
        Assert.Equal("<|image|>", tokenizer.Decode([128011]));             // Meta's own slot still decodes
        Assert.True(tokenizer.TryGetSpecialTokenId("<|python_tag|>", out int pythonTag));
        Assert.Equal(128010, pythonTag);
        Assert.True(tokenizer.TryGetSpecialTokenId("<|reserved_special_token_2|>", out int reserved2));
        Assert.Equal(128012, reserved2);                                      // Meta numbering (HF Vision names it _3)
        Assert.True(tokenizer.TryGetSpecialTokenId("<|reserved_special_token_245|>", out int last));
        Assert.Equal(128255, last);
    }

    [Fact]
    public void DirectoryWithOnlyTokenizerModelLoadsIt()
    {
        Llama3Tokenizer tokenizer = Llama3Tokenizer.Load(_model.Directory);
        Assert.Equal(_model.FilePath, tokenizer.SourcePath);
        Assert.Equal(TokenizerGoldens.Cases[1].IdsPlain, tokenizer.Encode(TokenizerGoldens.Cases[1].Text, false));
    }
}
