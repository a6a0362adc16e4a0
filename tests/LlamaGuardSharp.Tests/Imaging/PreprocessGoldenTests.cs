using System.Text.Json;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LlamaGuardSharp.Tests.Imaging;

/// <summary>Bit-exact comparison with transformers' MllamaImageProcessor on every golden preprocessing image.</summary>
public sealed class PreprocessGoldenTests(ITestOutputHelper output)
{
    private static readonly ImagePreprocessor Preprocessor = new();

    public static TheoryData<string> Images => ImagingGoldens.ImageNames();

    public static TheoryData<string> PngImages => ImagingGoldens.ImageNames(".png");

    /// <summary>From the reference's own RGB input (lossless), the plan, the resized bytes and every tile hash match.</summary>
    [Theory]
    [MemberData(nameof(Images))]
    public void FromReferenceRgbInput_ResizedBytesAndTileHashesMatch(string imageName)
    {
        JsonElement golden = ImagingGoldens.Entry(imageName);
        string input = golden.GetProperty("rgb_input_png").GetString() ?? imageName;
        RgbImage rgb = ImagingGoldens.DecodePng(input);

        PreprocessingPlan plan = Preprocessor.Plan(rgb.Width, rgb.Height);
        Assert.Equal(ImagingGoldens.IntArray(golden.GetProperty("canvas_hw")), new[] { plan.CanvasHeight, plan.CanvasWidth });
        Assert.Equal(ImagingGoldens.IntArray(golden.GetProperty("tiles_hw")), new[] { plan.Grid.TilesHigh, plan.Grid.TilesWide });
        Assert.Equal(ImagingGoldens.IntArray(golden.GetProperty("resized_hw_before_pad")), new[] { plan.ResizedHeight, plan.ResizedWidth });

        RgbImage resized = ImagePreprocessor.Resize(rgb, plan);
        Assert.Equal(golden.GetProperty("resize_is_identity").GetBoolean(), ReferenceEquals(resized, rgb));
        RgbImage expectedResized = ImagingGoldens.DecodePng(golden.GetProperty("resized_png").GetString()!);
        Assert.Equal(expectedResized.Width, resized.Width);
        Assert.Equal(expectedResized.Height, resized.Height);
        AssertBytesEqual(expectedResized.Pixels, resized.Pixels, imageName);

        PreprocessedImage result = Preprocessor.Normalise(resized, plan);
        AssertMatchesGolden(golden, result);
    }

    /// <summary>From the original file through our decoder: PNG inputs are identical end to end.</summary>
    [Theory]
    [MemberData(nameof(PngImages))]
    public async Task FromOriginalPng_EndToEndIdentical(string imageName)
    {
        JsonElement golden = ImagingGoldens.Entry(imageName);
        RgbImage rgb = await new ImageDecoder().DecodeFileAsync(ImagingGoldens.GoldenPath(imageName));
        if (golden.GetProperty("rgb_input_png").GetString() is string reference)
        {
            AssertBytesEqual(ImagingGoldens.DecodePng(reference).Pixels, rgb.Pixels, imageName + " (colour conversion)");
        }
        AssertMatchesGolden(golden, Preprocessor.Process(rgb));
    }

    /// <summary>
    /// JPEG decoding (Skia's libjpeg-turbo vs Pillow's): our RGB against the reference's decoded RGB must be within 2 levels; the
    /// figures go to the test log (and docs/imaging.md). When identical, the tile hashes must match too.
    /// </summary>
    [Theory]
    [InlineData("images/p_rocket.jpg")]
    [InlineData("images/p_exif_orient6.jpg")]
    public async Task JpegInputs_DecodeWithinTwoLevelsOfReference(string imageName)
    {
        JsonElement golden = ImagingGoldens.Entry(imageName);
        RgbImage ours = await new ImageDecoder().DecodeFileAsync(ImagingGoldens.GoldenPath(imageName));
        RgbImage reference = ImagingGoldens.DecodePng(golden.GetProperty("rgb_input_png").GetString()!);
        Assert.Equal(reference.Width, ours.Width);
        Assert.Equal(reference.Height, ours.Height);
        int max = 0;
        long sum = 0;
        int differing = 0;
        for (int i = 0; i < ours.Pixels.Length; i++)
        {
            int d = Math.Abs(ours.Pixels[i] - reference.Pixels[i]);
            max = Math.Max(max, d);
            sum += d;
            differing += d != 0 ? 1 : 0;
        }
        output.WriteLine($"{imageName}: max |diff| = {max}, mean |diff| = {(double)sum / ours.Pixels.Length:F6}, differing samples = {differing} of {ours.Pixels.Length}");
        Assert.True(max <= 2, $"{imageName}: decoded RGB differs from the reference by up to {max} levels.");
        if (max == 0)
        {
            AssertMatchesGolden(golden, Preprocessor.Process(ours));
        }
    }

    [Fact]
    public void FullTiles_MatchStoredValues()
    {
        string path = TestData.Golden("preprocess", "full_tiles.safetensors");
        foreach (JsonElement nameElement in ImagingGoldens.Preprocess.GetProperty("full_tiles").EnumerateArray())
        {
            string name = nameElement.GetString()!;
            int dot = name.LastIndexOf(".tile", StringComparison.Ordinal);
            string stem = name[..dot];
            int tile = int.Parse(name[(dot + 5)..], System.Globalization.CultureInfo.InvariantCulture);
            JsonElement golden = ImagingGoldens.Preprocess.GetProperty("images").EnumerateArray()
                .Single(e => Path.GetFileNameWithoutExtension(e.GetProperty("image").GetString()) == stem);
            string input = golden.GetProperty("rgb_input_png").GetString() ?? golden.GetProperty("image").GetString()!;
            PreprocessedImage result = Preprocessor.Process(ImagingGoldens.DecodePng(input));

            float[] expected = ImagingGoldens.ReadSafeTensorF32(path, name, out long[] shape);
            Assert.Equal([3L, result.TileSize, result.TileSize], shape);
            ReadOnlySpan<float> actual = result.Tile(tile).Span;
            for (int i = 0; i < expected.Length; i++)
            {
                if (Math.Abs(actual[i] - expected[i]) > 1e-4f + 1e-4f * Math.Abs(expected[i]))
                {
                    Assert.Fail($"{name}[{i}] = {actual[i]}, expected {expected[i]}");
                }
            }
            Assert.Equal(ImagingGoldens.Sha256F32(expected), ImagingGoldens.Sha256F32(actual));
        }
    }

    private static void AssertMatchesGolden(JsonElement golden, PreprocessedImage result)
    {
        Assert.Equal(golden.GetProperty("num_tiles")[0][0].GetInt32(), result.NumTiles);
        Assert.Equal(golden.GetProperty("aspect_ratio_ids")[0][0].GetInt32(), result.AspectRatioId);
        Assert.Equal(ImagingGoldens.IntArray(golden.GetProperty("aspect_ratio_mask")[0][0]), result.AspectRatioMask);
        Assert.Equal(ImagingGoldens.IntArray(golden.GetProperty("pixel_values_shape"))[2..], new[] { result.MaxTiles, 3, result.TileSize, result.TileSize });
        foreach (JsonElement tile in golden.GetProperty("tiles").EnumerateArray())
        {
            int index = tile.GetProperty("tile").GetInt32();
            Assert.True(tile.GetProperty("sha256_f32le").GetString() == ImagingGoldens.Sha256F32(result.Tile(index).Span),
                $"{golden.GetProperty("image").GetString()} tile {index} hash differs");
            foreach (JsonElement sample in tile.GetProperty("samples_cyx_value").EnumerateArray())
            {
                int c = sample[0].GetInt32(), y = sample[1].GetInt32(), x = sample[2].GetInt32();
                Assert.Equal((float)sample[3].GetDouble(), result.Tile(index).Span[(c * result.TileSize + y) * result.TileSize + x]);
            }
        }
        Assert.Equal(golden.GetProperty("pixel_values_sha256_f32le").GetString(), ImagingGoldens.Sha256F32(result.PixelValues));
    }

    private static void AssertBytesEqual(byte[] expected, byte[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int mismatches = 0;
        int first = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i])
            {
                mismatches++;
                if (first < 0)
                {
                    first = i;
                }
            }
        }
        Assert.True(mismatches == 0,
            $"{what}: {mismatches} of {expected.Length} bytes differ; first at byte {first} (expected {(first >= 0 ? expected[first] : 0)}, got {(first >= 0 ? actual[first] : 0)}).");
    }
}
