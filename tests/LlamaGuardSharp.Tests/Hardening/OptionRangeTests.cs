using System.Diagnostics;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Hardening;

/// <summary>
/// Family 3 of issue 23: every numeric option has a documented range (docs/limits.md) checked by the parser before any
/// work starts — no model is loaded, no file read — so an absurd value costs nothing and says which range it broke.
/// </summary>
public sealed class OptionRangeTests
{
    public static TheoryData<string[], string> OutOfRange => new()
    {
        { ["preprocess", "--image", "x.png", "--max-tiles", "1000000"], "--max-tiles must be in 1..16, not 1000000" },
        { ["preprocess", "--image", "x.png", "--max-tiles", "0"], "--max-tiles must be in 1..16, not 0" },
        { ["preprocess", "--image", "x.png", "--tile-size", "100000"], "--tile-size must be in 1..1120, not 100000" },
        { ["preprocess", "--image", "x.png", "--tile-size", "-5"], "--tile-size must be in 1..1120, not -5" },
        { ["classify", "--model", "m", "--user", "x", "--max-new-tokens", "100000"], "--max-new-tokens must be in 1..128, not 100000" },
        { ["classify", "--model", "m", "--user", "x", "--max-new-tokens", "0"], "--max-new-tokens must be in 1..128, not 0" },
        { ["classify", "--model", "m", "--user", "x", "--threads", "-1"], "--threads must be in 0..256, not -1" },
        { ["classify", "--model", "m", "--user", "x", "--threads", "100000"], "--threads must be in 0..256, not 100000" },
        { ["generate", "--model", "m", "--prompt-file", "p", "--max-new-tokens", "100000"], "--max-new-tokens must be in 1..1024, not 100000" },
        { ["generate", "--model", "m", "--prompt-file", "p", "--threads", "9999"], "--threads must be in 0..256, not 9999" },
        { ["synth", "--preset", "tiny", "--out", "o", "--max-shard-bytes", "0"], "--max-shard-bytes must be in 1048576..1000000000000, not 0" },
        { ["synth", "--preset", "tiny", "--out", "o", "--text-layers", "100000"], "--text-layers must be in 1..40, not 100000" },
        { ["synth", "--preset", "tiny", "--out", "o", "--vision-layers", "2"], "--vision-layers must be in 5..32, not 2" },
        { ["synth", "--preset", "tiny", "--out", "o", "--global-layers", "-1"], "--global-layers must be in 0..8, not -1" },
        { ["bench", "--runs", "0"], "--runs must be in 1..100, not 0" },
        { ["bench", "--warmup", "1000"], "--warmup must be in 0..100, not 1000" },
        { ["bench", "--threads", "-2"], "--threads must be in 0..256, not -2" },
        { ["quantize", "--model", "m", "--threads", "-1"], "--threads must be in 0..256, not -1" },
        { ["quantize", "--model", "m", "--threads", "100000"], "--threads must be in 0..256, not 100000" },
        { ["doctor", "--model", "m", "--threads", "257"], "--threads must be in 0..256, not 257" },
        { ["eval", "--model", "m", "--input", "i.jsonl", "--out", "o", "--limit", "-1"], "--limit must be in 0..2147483647, not -1" },
        { ["download", "meta-llama/Llama-Guard-3-11B-Vision", "--max-parallel", "0"], "--max-parallel must be in 1..64, not 0" },
        { ["download", "meta-llama/Llama-Guard-3-11B-Vision", "--max-parallel", "1000"], "--max-parallel must be in 1..64, not 1000" },
        { ["preprocess", "--image", "x.png", "--tile-size", "abc"], "--tile-size expects an integer, not 'abc'" },
        { ["classify", "--model", "m", "--user", "x", "--max-new-tokens", "99999999999999999999"], "--max-new-tokens expects an integer" },
        { ["synth", "--preset", "tiny", "--out", "o", "--seed", "-1"], "--seed expects a non-negative integer, not '-1'" },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public async Task An_out_of_range_value_is_one_error_line_before_any_work(string[] args, string expected)
    {
        var stopwatch = Stopwatch.StartNew();
        var (code, output, error) = await CliRunner.RunAsync(args);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"took {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task The_ranges_are_in_the_help()
    {
        var (code, output, _) = await CliRunner.RunAsync("preprocess", "--help");
        Assert.Equal(0, code);
        Assert.Contains("Range 1..1120", output);
        Assert.Contains("Range 1..16", output);
    }

    [Fact]
    public void The_library_refuses_the_same_tile_geometry()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImagePreprocessorOptions(100_000, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImagePreprocessorOptions(560, 1_000_000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImagePreprocessorOptions() with { MaxTiles = 17 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImagePreprocessorOptions() with { TileSize = 0 });
        Assert.Equal(16, new ImagePreprocessorOptions(ImagePreprocessorOptions.LargestTileSize, ImagePreprocessorOptions.LargestMaxTiles).MaxTiles);
    }

    [Fact]
    public async Task A_model_folder_whose_preprocessor_config_asks_for_huge_tiles_is_refused()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"lgs-tiles-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "preprocessor_config.json"), """{"size": {"height": 100000, "width": 100000}, "max_image_tiles": 4}""");
            var (code, output, error) = await CliRunner.RunAsync("preprocess", "--image", TestData.Golden("images", "p_tiny_5x4.png"), "--model", dir);
            Assert.Equal(1, code);
            Assert.Equal("", output);
            Assert.Contains("tile size (100000) must be 1..1120", Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
