namespace LlamaGuardSharp.Imaging;

/// <summary>
/// The processor's output for one image (transformers' <c>pixel_values</c>, <c>aspect_ratio_ids</c>, <c>aspect_ratio_mask</c>,
/// <c>num_tiles</c> for batch 1, image 1).
/// </summary>
/// <param name="PixelValues">[MaxTiles, 3, TileSize, TileSize] float32, channel-first RGB; tiles ≥ NumTiles are exactly 0.</param>
/// <param name="AspectRatioId">1 + index of the tile grid in the supported list.</param>
/// <param name="AspectRatioMask">MaxTiles entries: 1 for the image's tiles, 0 for the padding tiles.</param>
/// <param name="CanvasHeight">TilesHigh · TileSize.</param>
/// <param name="ResizedHeight">Height of the image content before padding.</param>
public sealed record PreprocessedImage(
    float[] PixelValues,
    int TileSize,
    int MaxTiles,
    int TilesHigh,
    int TilesWide,
    int NumTiles,
    int AspectRatioId,
    int[] AspectRatioMask,
    int CanvasHeight,
    int CanvasWidth,
    int ResizedHeight,
    int ResizedWidth)
{
    /// <summary>Number of floats in one tile (3 · TileSize²).</summary>
    public int TileLength => 3 * TileSize * TileSize;

    /// <summary>The values of tile <paramref name="index"/> ([3, TileSize, TileSize]).</summary>
    public ReadOnlyMemory<float> Tile(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, MaxTiles);
        return new ReadOnlyMemory<float>(PixelValues, index * TileLength, TileLength);
    }
}
