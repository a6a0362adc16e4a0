using System.Text.Json;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Imaging;

/// <summary>The images of the tiny-model cases give the tile hashes (and, for the 56-pixel config, the pixel values) stored there.</summary>
public sealed class ModelCasePixelTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string model in new[] { "mllama_tiny_560", "mllama_tiny_56" })
        {
            foreach (string json in Directory.GetFiles(TestData.Golden("models", model, "cases"), "*.json").Order(StringComparer.Ordinal))
            {
                using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(json));
                if (doc.RootElement.GetProperty("images").GetArrayLength() > 0)
                {
                    data.Add(model, Path.GetFileNameWithoutExtension(json));
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task CaseImages_GiveStoredTileHashes(string model, string caseName)
    {
        string modelDir = TestData.Golden("models", model);
        var preprocessor = new ImagePreprocessor(ImagePreprocessorOptions.FromModelDirectory(modelDir));
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(TestData.Golden("models", model, "cases", caseName + ".json")));
        JsonElement root = doc.RootElement;
        JsonElement[] images = [.. root.GetProperty("images").EnumerateArray()];
        int[] shape = ImagingGoldens.IntArray(root.GetProperty("pixel_values_shape"));
        Assert.Equal(new[] { 1, images.Length, preprocessor.Options.MaxTiles, 3, preprocessor.Options.TileSize, preprocessor.Options.TileSize }, shape);

        string safetensors = TestData.Golden("models", model, "cases", caseName + ".safetensors");
        float[]? storedPixels = model == "mllama_tiny_56" ? ImagingGoldens.ReadSafeTensorF32(safetensors, "pixel_values", out _) : null;
        for (int n = 0; n < images.Length; n++)
        {
            RgbImage rgb = await new ImageDecoder().DecodeFileAsync(ImagingGoldens.GoldenPath(images[n].GetString()!));
            PreprocessedImage result = preprocessor.Process(rgb);
            Assert.Equal(root.GetProperty("num_tiles")[0][n].GetInt32(), result.NumTiles);
            Assert.Equal(ImagingGoldens.ReadSafeTensorI64(safetensors, "aspect_ratio_ids")[n], result.AspectRatioId);
            Assert.Equal(ImagingGoldens.ReadSafeTensorI64(safetensors, "aspect_ratio_mask").AsSpan(n * result.MaxTiles, result.MaxTiles).ToArray(),
                result.AspectRatioMask.Select(m => (long)m).ToArray());
            JsonElement hashes = root.GetProperty("pixel_values_tile_sha256_f32le")[n];
            for (int t = 0; t < result.MaxTiles; t++)
            {
                Assert.Equal(hashes[t].GetString(), ImagingGoldens.Sha256F32(result.Tile(t).Span));
            }
            if (storedPixels is not null)
            {
                ReadOnlySpan<float> stored = storedPixels.AsSpan(n * result.PixelValues.Length, result.PixelValues.Length);
                Assert.True(stored.SequenceEqual(result.PixelValues), $"{caseName} image {n}: pixel_values differ from the stored tensor");
            }
        }
    }
}
