using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Model;

public sealed class GenerationConfigTests
{
    [Fact]
    public void Reads_the_eos_list_of_the_golden_model_and_the_model_uses_it()
    {
        string dir = TestData.Golden("models", "mllama_tiny_56");
        Assert.Equal([128001, 128008, 128009], GenerationConfig.ReadEosTokenIds(dir));
        using var checkpoint = MllamaCheckpoint.Open(dir);
        Assert.Equal([128001, 128008, 128009], MllamaModel.Load(checkpoint).StopTokenIds);
    }

    [Theory]
    [InlineData("{\"eos_token_id\": 7}", new[] { 7 })]
    [InlineData("{\"bos_token_id\": 1}", null)]
    public void Accepts_a_single_id_or_no_entry(string json, int[]? expected)
    {
        string dir = Directory.CreateTempSubdirectory("lgs-genconfig-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, GenerationConfig.FileName), json);
            Assert.Equal(expected, GenerationConfig.ReadEosTokenIds(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("{\"eos_token_id\": \"x\"}")]
    [InlineData("{\"eos_token_id\": [1, 2.5]}")]
    [InlineData("{not json")]
    public void Malformed_files_raise_a_checkpoint_format_error(string json)
    {
        string dir = Directory.CreateTempSubdirectory("lgs-genconfig-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, GenerationConfig.FileName), json);
            var e = Assert.Throws<CheckpointFormatException>(() => GenerationConfig.ReadEosTokenIds(dir));
            Assert.Contains(GenerationConfig.FileName, e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Missing_file_means_no_override()
    {
        string dir = Directory.CreateTempSubdirectory("lgs-genconfig-").FullName;
        try
        {
            Assert.Null(GenerationConfig.ReadEosTokenIds(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
