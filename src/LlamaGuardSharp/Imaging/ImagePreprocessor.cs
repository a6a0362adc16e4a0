using System.Runtime.CompilerServices;

namespace LlamaGuardSharp.Imaging;

/// <summary>
/// Mllama image preprocessing, bit-exact with transformers' <c>MllamaImageProcessor</c> (v4.45.2, PIL path): choose the tile canvas,
/// resize with Pillow's bilinear filter, pad with black at the bottom/right, rescale and normalise in float32, split into
/// row-major tiles and pad the tile list with all-zero tiles. Thread-safe; an instance only holds immutable lookup tables.
/// </summary>
public sealed class ImagePreprocessor
{
    /// <summary>Per channel: the normalised float for every uint8 value (256 entries per channel).</summary>
    private readonly float[][] _normalised;

    /// <summary>The candidate grids, fixed at construction.</summary>
    private readonly IReadOnlyList<TileGrid> _grids;

    public ImagePreprocessor(ImagePreprocessorOptions? options = null)
    {
        Options = options ?? new ImagePreprocessorOptions();
        Validate(Options);
        _grids = [.. Options.SupportedAspectRatios];
        _normalised = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            float mean = (float)Options.ImageMean[c];
            float std = (float)Options.ImageStd[c];
            _normalised[c] = new float[256];
            for (int v = 0; v < 256; v++)
            {
                // The reference rescales in float64 then stores float32; mean and std are float32 arrays, so the subtraction and
                // division are float32 operations.
                float x = (float)(v * Options.RescaleFactor);
                _normalised[c][v] = (x - mean) / std;
            }
        }
    }

    public ImagePreprocessorOptions Options { get; }

    /// <summary>The grid, canvas and resized size for an image of the given size (no pixels touched).</summary>
    public PreprocessingPlan Plan(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        int tile = Options.TileSize;
        int index = CanvasPlanner.ChooseGrid(height, width, tile, _grids);
        TileGrid grid = _grids[index];
        int canvasHeight = grid.TilesHigh * tile;
        int canvasWidth = grid.TilesWide * tile;
        (int resizedHeight, int resizedWidth) = CanvasPlanner.FitToCanvas(height, width, canvasHeight, canvasWidth, tile);
        return new PreprocessingPlan(grid, index + 1, canvasHeight, canvasWidth, resizedHeight, resizedWidth);
    }

    /// <summary>The image resized as the plan says (Pillow bilinear); the same instance when no resize is needed.</summary>
    public static RgbImage Resize(RgbImage image, PreprocessingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(plan);
        if (image.Width == plan.ResizedWidth && image.Height == plan.ResizedHeight)
        {
            return image;
        }
        byte[] resized = PillowBilinear.ResizeRgb(image.Pixels, image.Width, image.Height, plan.ResizedWidth, plan.ResizedHeight);
        return new RgbImage(plan.ResizedWidth, plan.ResizedHeight, resized);
    }

    public PreprocessedImage Process(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        PreprocessingPlan plan = Plan(image.Width, image.Height);
        RgbImage resized = Resize(image, plan);
        return Normalise(resized, plan);
    }

    /// <summary>Pads, normalises and tiles an image that already has the plan's resized size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public PreprocessedImage Normalise(RgbImage resized, PreprocessingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(resized);
        ArgumentNullException.ThrowIfNull(plan);
        if (resized.Width != plan.ResizedWidth || resized.Height != plan.ResizedHeight)
        {
            throw new ArgumentException(
                $"Image is {resized.Width}×{resized.Height}, the plan expects {plan.ResizedWidth}×{plan.ResizedHeight}.", nameof(resized));
        }
        int s = Options.TileSize;
        int maxTiles = Options.MaxTiles;
        int tileLength = 3 * s * s;
        var pixelValues = new float[(long)maxTiles * tileLength];
        int numTiles = plan.Grid.TileCount;
        byte[] src = resized.Pixels;
        int width = resized.Width;
        for (int r = 0; r < plan.Grid.TilesHigh; r++)
        {
            for (int c = 0; c < plan.Grid.TilesWide; c++)
            {
                int tileIndex = r * plan.Grid.TilesWide + c;
                int x0 = c * s;
                int validColumns = Math.Clamp(width - x0, 0, s);
                for (int ch = 0; ch < 3; ch++)
                {
                    float[] lut = _normalised[ch];
                    float padding = lut[0];
                    Span<float> plane = pixelValues.AsSpan(tileIndex * tileLength + ch * s * s, s * s);
                    for (int y = 0; y < s; y++)
                    {
                        Span<float> row = plane.Slice(y * s, s);
                        int sourceRow = r * s + y;
                        int columns = sourceRow < resized.Height ? validColumns : 0;
                        ReadOnlySpan<byte> sourcePixels = columns > 0 ? src.AsSpan((sourceRow * width + x0) * 3 + ch, columns * 3 - 2) : default;
                        for (int x = 0; x < columns; x++)
                        {
                            row[x] = lut[sourcePixels[3 * x]];
                        }
                        row[columns..].Fill(padding);
                    }
                }
            }
        }
        var mask = new int[maxTiles];
        for (int t = 0; t < maxTiles; t++)
        {
            mask[t] = t < numTiles || t == 0 ? 1 : 0;
        }
        return new PreprocessedImage(pixelValues, s, maxTiles, plan.Grid.TilesHigh, plan.Grid.TilesWide, numTiles, plan.AspectRatioId,
            mask, plan.CanvasHeight, plan.CanvasWidth, plan.ResizedHeight, plan.ResizedWidth);
    }

    private static void Validate(ImagePreprocessorOptions options)
    {
        if (options.TileSize <= 0 || options.MaxTiles <= 0)
        {
            throw new ArgumentException("TileSize and MaxTiles must be positive.", nameof(options));
        }
        if (options.ImageMean is not { Count: 3 } || options.ImageStd is not { Count: 3 })
        {
            throw new ArgumentException("ImageMean and ImageStd need exactly 3 values (R, G, B).", nameof(options));
        }
        if (options.ImageStd.Any(v => !(v > 0)) || !(options.RescaleFactor > 0))
        {
            throw new ArgumentException("ImageStd values and RescaleFactor must be positive.", nameof(options));
        }
        if (options.SupportedAspectRatios is not { Count: > 0 })
        {
            throw new ArgumentException("SupportedAspectRatios must list at least one tile grid.", nameof(options));
        }
        foreach (TileGrid grid in options.SupportedAspectRatios)
        {
            if (grid.TilesHigh <= 0 || grid.TilesWide <= 0 || grid.TileCount > options.MaxTiles)
            {
                throw new ArgumentException($"Tile grid {grid.TilesHigh}×{grid.TilesWide} does not fit MaxTiles = {options.MaxTiles}.", nameof(options));
            }
        }
    }
}
