using LlamaGuardSharp.Imaging;

namespace LlamaGuardSharp.Model;

/// <summary>
/// One preprocessed image as the vision encoder takes it (the processor's outputs for one image, docs/imaging.md).
/// </summary>
/// <param name="PixelValues">Normalised tiles [MaxTiles, channels, tileSize, tileSize], channel-first, padded tiles zero.</param>
/// <param name="AspectRatioId">1-based index of the tile arrangement in <c>supported_aspect_ratios</c>.</param>
/// <param name="AspectRatioMask">One entry per tile slot: true for the real tiles.</param>
/// <param name="NumTiles">Number of real tiles (what the cross-attention mask exposes to text).</param>
internal sealed record VisionInput(float[] PixelValues, int AspectRatioId, bool[] AspectRatioMask, int NumTiles)
{
    /// <summary>The model input for an image prepared by <see cref="ImagePreprocessor"/> (shares its pixel array).</summary>
    public static VisionInput FromPreprocessed(PreprocessedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new VisionInput(image.PixelValues, image.AspectRatioId, image.AspectRatioMask.Select(v => v != 0).ToArray(), image.NumTiles);
    }
}
