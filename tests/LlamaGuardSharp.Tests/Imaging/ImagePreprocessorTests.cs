using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Imaging;

/// <summary>Canvas/size planning, tiling layout and configuration loading.</summary>
public sealed class ImagePreprocessorTests
{
    private static readonly ImagePreprocessor Preprocessor = new();

    /// <summary>Worked examples computed with transformers' algorithm (docs/imaging.md).</summary>
    [Theory]
    [InlineData(1, 1, 1, 1, 560, 560, 1)]
    [InlineData(100, 100, 1, 1, 560, 560, 1)]
    [InlineData(560, 560, 1, 1, 560, 560, 1)]
    [InlineData(561, 561, 2, 2, 561, 561, 6)]
    [InlineData(640, 480, 1, 2, 640, 480, 2)]
    [InlineData(800, 600, 2, 2, 800, 600, 6)]
    [InlineData(1280, 720, 2, 2, 1120, 630, 6)]
    [InlineData(1920, 1080, 2, 2, 1120, 630, 6)]
    [InlineData(1080, 1920, 2, 2, 630, 1120, 6)]
    [InlineData(2000, 600, 1, 4, 1866, 560, 4)]
    [InlineData(600, 2000, 4, 1, 560, 1866, 8)]
    [InlineData(3000, 500, 1, 4, 2240, 373, 4)]
    [InlineData(500, 3000, 4, 1, 373, 2240, 8)]
    [InlineData(4000, 3000, 2, 2, 1120, 840, 6)]
    public void Plan_MatchesWorkedExamples(int width, int height, int tilesHigh, int tilesWide, int resizedWidth, int resizedHeight, int id)
    {
        PreprocessingPlan plan = Preprocessor.Plan(width, height);
        Assert.Equal(new TileGrid(tilesHigh, tilesWide), plan.Grid);
        Assert.Equal((tilesHigh * 560, tilesWide * 560), (plan.CanvasHeight, plan.CanvasWidth));
        Assert.Equal((resizedWidth, resizedHeight), (plan.ResizedWidth, plan.ResizedHeight));
        Assert.Equal(id, plan.AspectRatioId);
    }

    [Fact]
    public void Plan_ExtremeAspectRatio_NeverResizesToZero()
    {
        PreprocessingPlan plan = Preprocessor.Plan(40_000, 1);
        Assert.Equal(new TileGrid(1, 4), plan.Grid);
        Assert.Equal((1, 2240), (plan.ResizedHeight, plan.ResizedWidth));
    }

    [Fact]
    public void AspectRatios_AreTransformersOrder()
    {
        Assert.Equal(
            [new(1, 1), new(1, 2), new(1, 3), new(1, 4), new(2, 1), new(2, 2), new(3, 1), new(4, 1)],
            TileGrid.AllUpTo(4));
    }

    [Fact]
    public void Process_LaysOutTilesRowMajorWithPaddingAndEmptyTiles()
    {
        // A 2×1-tile canvas with tile size 4: a 3-wide × 6-high image of distinct values, then padding, then two empty tiles.
        var options = new ImagePreprocessorOptions(tileSize: 4, maxTiles: 4);
        var preprocessor = new ImagePreprocessor(options);
        var pixels = new byte[6 * 3 * 3];
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = (byte)(i * 5);
        }
        // 3×6 gets the 2×1 grid (8 high × 4 wide, the smallest canvas with the least upscale 4/3); its height 6 already lies in
        // [tile, canvas], so it is not resized, only padded.
        PreprocessedImage result = preprocessor.Process(new RgbImage(3, 6, pixels));
        Assert.Equal((2, 1, 2, 5), (result.TilesHigh, result.TilesWide, result.NumTiles, result.AspectRatioId));
        Assert.Equal(new[] { 1, 1, 0, 0 }, result.AspectRatioMask);
        Assert.Equal(4 * 3 * 4 * 4, result.PixelValues.Length);
        Assert.Equal((8, 4), (result.CanvasHeight, result.CanvasWidth));
        Assert.Equal((6, 3), (result.ResizedHeight, result.ResizedWidth));
        Assert.All(result.Tile(2).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(result.Tile(3).ToArray(), v => Assert.Equal(0f, v));

        // Without a resize (an image that exactly fits), every value is the formula applied to the right source byte.
        var exact = new byte[8 * 3 * 3];
        for (int i = 0; i < exact.Length; i++)
        {
            exact[i] = (byte)(255 - i * 3);
        }
        PreprocessedImage padded = preprocessor.Process(new RgbImage(3, 8, exact));
        Assert.Equal((8, 3), (padded.ResizedHeight, padded.ResizedWidth));
        for (int t = 0; t < 2; t++)
        {
            ReadOnlySpan<float> tile = padded.Tile(t).Span;
            for (int c = 0; c < 3; c++)
            {
                float mean = (float)options.ImageMean[c];
                float std = (float)options.ImageStd[c];
                for (int y = 0; y < 4; y++)
                {
                    for (int x = 0; x < 4; x++)
                    {
                        int row = t * 4 + y;
                        byte u8 = x < 3 ? exact[(row * 3 + x) * 3 + c] : (byte)0;
                        float expected = ((float)(u8 * (1.0 / 255.0)) - mean) / std;
                        Assert.Equal(expected, tile[(c * 4 + y) * 4 + x]);
                    }
                }
            }
        }
    }

    [Fact]
    public void PaddingValue_IsMinusMeanOverStd()
    {
        var preprocessor = new ImagePreprocessor();
        PreprocessedImage result = preprocessor.Process(new RgbImage(640, 480, new byte[640 * 480 * 3]));
        // Bottom-right of tile 1 is padding (image is 480 high on a 560 canvas).
        ReadOnlySpan<float> tile = result.Tile(1).Span;
        Assert.Equal(-1.7922626f, tile[(0 * 560 + 559) * 560 + 559], 6);
        Assert.Equal(-1.7520971f, tile[(1 * 560 + 559) * 560 + 559], 6);
        Assert.Equal(-1.4802198f, tile[(2 * 560 + 559) * 560 + 559], 6);
    }

    [Theory]
    [InlineData("mllama_tiny_560", 560)]
    [InlineData("mllama_tiny_56", 56)]
    public void FromModelDirectory_ReadsPreprocessorConfig(string model, int tileSize)
    {
        ImagePreprocessorOptions options = ImagePreprocessorOptions.FromModelDirectory(TestData.Golden("models", model));
        Assert.Equal(tileSize, options.TileSize);
        Assert.Equal(4, options.MaxTiles);
        Assert.Equal(0.48145466, options.ImageMean[0]);
        Assert.Equal(0.27577711, options.ImageStd[2]);
        Assert.Equal(0.00392156862745098, options.RescaleFactor);
        Assert.Equal(TileGrid.AllUpTo(4), options.SupportedAspectRatios);
    }

    [Fact]
    public void FromModelDirectory_FallsBackToConfigJson()
    {
        string dir = Directory.CreateTempSubdirectory("lgs-imaging-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "config.json"), """{"vision_config": {"image_size": 224, "max_num_tiles": 6}}""");
            ImagePreprocessorOptions options = ImagePreprocessorOptions.FromModelDirectory(dir);
            Assert.Equal((224, 6), (options.TileSize, options.MaxTiles));
            Assert.Equal(TileGrid.AllUpTo(6), options.SupportedAspectRatios);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("preprocessor_config.json", "{not json")]
    [InlineData("preprocessor_config.json", """{"max_image_tiles": 4}""")]
    [InlineData("preprocessor_config.json", """{"size": {"height": 560, "width": 448}, "max_image_tiles": 4}""")]
    [InlineData("preprocessor_config.json", """{"size": {"height": 560, "width": 560}, "max_image_tiles": "4"}""")]
    [InlineData("preprocessor_config.json", """{"size": {"height": 560, "width": 560}, "max_image_tiles": 4, "image_std": [1, 0, 1]}""")]
    [InlineData("preprocessor_config.json", """{"size": {"height": 560, "width": 560}, "max_image_tiles": 4, "image_mean": [1, 1]}""")]
    [InlineData("config.json", """{"vision_config": {"image_size": 0, "max_num_tiles": 4}}""")]
    [InlineData("config.json", """{"text_config": {}}""")]
    public void FromModelDirectory_BadConfig_IsInvalidData(string file, string content)
    {
        string dir = Directory.CreateTempSubdirectory("lgs-imaging-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, file), content);
            var e = Assert.Throws<InvalidDataException>(() => ImagePreprocessorOptions.FromModelDirectory(dir));
            Assert.Contains(file, e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void FromModelDirectory_MissingFiles_AreNotFound()
    {
        string dir = Directory.CreateTempSubdirectory("lgs-imaging-").FullName;
        try
        {
            Assert.Throws<FileNotFoundException>(() => ImagePreprocessorOptions.FromModelDirectory(dir));
            Assert.Throws<DirectoryNotFoundException>(() => ImagePreprocessorOptions.FromModelDirectory(Path.Combine(dir, "missing")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void AspectRatios_FollowMaxTilesUnlessSet()
    {
        var options = new ImagePreprocessorOptions() with { MaxTiles = 2 };
        Assert.Equal([new(1, 1), new(1, 2), new(2, 1)], options.SupportedAspectRatios);
        PreprocessedImage result = new ImagePreprocessor(options).Process(new RgbImage(1200, 600, new byte[1200 * 600 * 3]));
        Assert.Equal((1, 2, 2), (result.TilesHigh, result.TilesWide, result.AspectRatioId));
        Assert.Equal(2, result.AspectRatioMask.Length);

        var custom = new ImagePreprocessorOptions { SupportedAspectRatios = [new TileGrid(2, 2)] };
        PreprocessedImage square = new ImagePreprocessor(custom).Process(new RgbImage(10, 10, new byte[300]));
        Assert.Equal((2, 2, 1, 4), (square.TilesHigh, square.TilesWide, square.AspectRatioId, square.NumTiles));
    }

    [Fact]
    public void InvalidOptions_AreRejected()
    {
        Assert.Throws<ArgumentException>(() => new ImagePreprocessor(new ImagePreprocessorOptions { SupportedAspectRatios = [new TileGrid(2, 3)] }));
        Assert.Throws<ArgumentException>(() => new ImagePreprocessor(new ImagePreprocessorOptions { ImageStd = [1.0, 0.0, 1.0] }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImagePreprocessorOptions(tileSize: 0));
    }

    [Fact]
    public async Task ExifOrientation_IsIgnoredByDefaultAndAppliedOnRequest()
    {
        string path = TestData.Golden("images", "p_exif_orient6.jpg");
        RgbImage stored = await new ImageDecoder().DecodeFileAsync(path);
        Assert.Equal((640, 427), (stored.Width, stored.Height));

        RgbImage rotated = await new ImageDecoder(new ImageDecoderOptions { ApplyExifOrientation = true }).DecodeFileAsync(path);
        // Orientation 6 = rotate 90° clockwise for display: the stored bottom-left pixel becomes the top-left one.
        Assert.Equal((427, 640), (rotated.Width, rotated.Height));
        for (int y = 0; y < rotated.Height; y += 37)
        {
            for (int x = 0; x < rotated.Width; x += 29)
            {
                int storedX = y;
                int storedY = stored.Height - 1 - x;
                for (int c = 0; c < 3; c++)
                {
                    Assert.Equal(stored.Pixels[(storedY * stored.Width + storedX) * 3 + c], rotated.Pixels[(y * rotated.Width + x) * 3 + c]);
                }
            }
        }
    }
}
