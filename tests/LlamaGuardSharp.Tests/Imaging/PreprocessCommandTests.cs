using System.CommandLine;
using System.Text.Json;
using LlamaGuardSharp.Cli;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Imaging;

/// <summary><c>llamaguard preprocess</c> in process: JSON against the goldens, the safetensors output, and errors.</summary>
public sealed class PreprocessCommandTests
{
    private static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exitCode = Program.BuildRootCommand().Parse(["preprocess", .. args])
            .Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("images/p_rocket.jpg")]
    [InlineData("images/p_logo.png")]
    [InlineData("images/p_thin_1600x40.png")]
    public void Json_MatchesGolden(string imageName)
    {
        var (exit, output, error) = Run("--image", ImagingGoldens.GoldenPath(imageName), "--json");
        Assert.True(exit == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        JsonElement root = doc.RootElement;
        JsonElement golden = ImagingGoldens.Entry(imageName);
        Assert.Equal(ImagingGoldens.IntArray(golden.GetProperty("canvas_hw")), ImagingGoldens.IntArray(root.GetProperty("canvas")));
        Assert.Equal(ImagingGoldens.IntArray(golden.GetProperty("resized_hw_before_pad")), ImagingGoldens.IntArray(root.GetProperty("resized")));
        Assert.Equal(ImagingGoldens.IntArray(golden.GetProperty("tiles_hw")), ImagingGoldens.IntArray(root.GetProperty("tiles")));
        Assert.Equal(golden.GetProperty("aspect_ratio_ids")[0][0].GetInt32(), root.GetProperty("aspect_ratio_id").GetInt32());
        Assert.Equal(ImagingGoldens.IntArray(golden.GetProperty("aspect_ratio_mask")[0][0]), ImagingGoldens.IntArray(root.GetProperty("aspect_ratio_mask")));
        Assert.Equal(golden.GetProperty("num_tiles")[0][0].GetInt32(), root.GetProperty("num_tiles").GetInt32());
        Assert.Equal(golden.GetProperty("pixel_values_sha256_f32le").GetString(), root.GetProperty("pixel_values_sha256").GetString());
        Assert.Equal(golden.GetProperty("tiles").EnumerateArray().Select(t => t.GetProperty("sha256_f32le").GetString()),
            root.GetProperty("tile_sha256").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public void ModelDirectory_SetsTileGeometryAndOutWritesModelInputs()
    {
        string dir = Directory.CreateTempSubdirectory("lgs-imaging-").FullName;
        try
        {
            string outPath = Path.Combine(dir, "inputs.safetensors");
            var (exit, output, error) = Run("--image", TestData.Golden("images", "m_wide_1000x300.png"),
                "--model", TestData.Golden("models", "mllama_tiny_56"), "--out", outPath, "--json");
            Assert.True(exit == 0, error);
            using JsonDocument doc = JsonDocument.Parse(output);
            using JsonDocument caseDoc = JsonDocument.Parse(File.ReadAllBytes(TestData.Golden("models", "mllama_tiny_56", "cases", "wide_guard_prompt.json")));
            Assert.Equal(caseDoc.RootElement.GetProperty("pixel_values_tile_sha256_f32le")[0].EnumerateArray().Select(e => e.GetString()),
                doc.RootElement.GetProperty("tile_sha256").EnumerateArray().Select(e => e.GetString()));

            string caseFile = TestData.Golden("models", "mllama_tiny_56", "cases", "wide_guard_prompt.safetensors");
            float[] written = ImagingGoldens.ReadSafeTensorF32(outPath, "pixel_values", out long[] shape);
            Assert.Equal(new long[] { 1, 1, 4, 3, 56, 56 }, shape);
            Assert.Equal(ImagingGoldens.ReadSafeTensorF32(caseFile, "pixel_values", out _), written);
            Assert.Equal(ImagingGoldens.ReadSafeTensorI64(caseFile, "aspect_ratio_ids"), ImagingGoldens.ReadSafeTensorI64(outPath, "aspect_ratio_ids"));
            Assert.Equal(ImagingGoldens.ReadSafeTensorI64(caseFile, "aspect_ratio_mask"), ImagingGoldens.ReadSafeTensorI64(outPath, "aspect_ratio_mask"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TileOptions_OverrideTheDefaults()
    {
        var (exit, output, error) = Run("--image", TestData.Golden("images", "m_square_64.png"), "--tile-size", "56", "--max-tiles", "4", "--json");
        Assert.True(exit == 0, error);
        using JsonDocument doc = JsonDocument.Parse(output);
        Assert.Equal(new[] { 112, 112 }, ImagingGoldens.IntArray(doc.RootElement.GetProperty("canvas")));
        Assert.Equal(6, doc.RootElement.GetProperty("aspect_ratio_id").GetInt32());
    }

    [Fact]
    public void TextOutput_ListsEveryTile()
    {
        var (exit, output, _) = Run("--image", TestData.Golden("images", "p_tiny_5x4.png"));
        Assert.Equal(0, exit);
        Assert.Contains("aspect_ratio_id 1", output, StringComparison.Ordinal);
        Assert.Contains("tile 3:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Errors_GoToStderrWithNonZeroExit()
    {
        string dir = Directory.CreateTempSubdirectory("lgs-imaging-").FullName;
        try
        {
            string garbage = Path.Combine(dir, "garbage.png");
            File.WriteAllText(garbage, "not an image");
            var (exit, output, error) = Run("--image", garbage, "--json");
            Assert.NotEqual(0, exit);
            Assert.Equal("", output);
            Assert.Contains("not a supported image format", error, StringComparison.Ordinal);

            (exit, _, error) = Run("--image", Path.Combine(dir, "missing.png"));
            Assert.NotEqual(0, exit);
            Assert.Contains("not found", error, StringComparison.Ordinal);

            (exit, _, error) = Run("--image", TestData.Golden("images", "p_tiny_5x4.png"), "--model", dir);
            Assert.NotEqual(0, exit);
            Assert.Contains("preprocessor_config.json", error, StringComparison.Ordinal);

            (exit, _, error) = Run("--image", TestData.Golden("images", "p_tiny_5x4.png"), "--model", dir, "--tile-size", "56");
            Assert.NotEqual(0, exit);
            Assert.Contains("not both", error, StringComparison.Ordinal);

            (exit, _, error) = Run("--image", TestData.Golden("images", "p_tiny_5x4.png"), "--max-tiles", "0");
            Assert.NotEqual(0, exit);
            Assert.Equal(1, exit);
            Assert.Contains("--max-tiles must be in 1..16, not 0", error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
