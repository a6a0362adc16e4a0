using System.Text.Json;
using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Imaging;

/// <summary>
/// Settings of the Mllama image processor. Defaults are Llama Guard 3 Vision's: 560-pixel tiles, at most 4 tiles, CLIP mean/std,
/// rescale 1/255, and the aspect ratios transformers derives from the tile limit.
/// </summary>
public sealed record ImagePreprocessorOptions
{
    public const string PreprocessorConfigFileName = "preprocessor_config.json";
    public const string ModelConfigFileName = "config.json";

    private static readonly double[] ClipMean = [0.48145466, 0.4578275, 0.40821073];
    private static readonly double[] ClipStd = [0.26862954, 0.26130258, 0.27577711];

    /// <summary>
    /// Largest accepted <see cref="TileSize"/> (twice the real model's 560): the output tensor holds
    /// <see cref="MaxTiles"/> × 3 × <see cref="TileSize"/>² float32 values, so the two limits together bound it to 240 MB.
    /// </summary>
    public const int LargestTileSize = 1120;

    /// <summary>Largest accepted <see cref="MaxTiles"/> (the real model uses 4).</summary>
    public const int LargestMaxTiles = 16;

    /// <summary>Options with explicit tile geometry; everything else at the reference defaults.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a value outside 1..<see cref="LargestTileSize"/> or 1..<see cref="LargestMaxTiles"/>.</exception>
    public ImagePreprocessorOptions(int tileSize = 560, int maxTiles = 4)
    {
        TileSize = tileSize;
        MaxTiles = maxTiles;
    }

    private readonly IReadOnlyList<TileGrid>? _supportedAspectRatios;
    private readonly int _tileSize;
    private readonly int _maxTiles;

    /// <summary>Side of a square tile in pixels (the vision encoder's image_size), 1..<see cref="LargestTileSize"/>.</summary>
    public int TileSize
    {
        get => _tileSize;
        init => _tileSize = InRange(value, LargestTileSize, "tile size");
    }

    /// <summary>Number of tiles in the output tensor (unused ones are all zero), 1..<see cref="LargestMaxTiles"/>.</summary>
    public int MaxTiles
    {
        get => _maxTiles;
        init => _maxTiles = InRange(value, LargestMaxTiles, "maximum tile count");
    }

    private static int InRange(int value, int largest, string what) => value is >= 1 && value <= largest
        ? value
        : throw new ArgumentOutOfRangeException(what, value, $"The {what} must be 1..{largest}, not {value}.");

    /// <summary>Per-channel (R, G, B) mean; used as <c>float32(mean)</c>, as the reference does.</summary>
    public IReadOnlyList<double> ImageMean { get; init; } = ClipMean;

    /// <summary>Per-channel (R, G, B) standard deviation; used as <c>float32(std)</c>.</summary>
    public IReadOnlyList<double> ImageStd { get; init; } = ClipStd;

    /// <summary>Factor from uint8 to [0, 1], applied in double precision then rounded to float32.</summary>
    public double RescaleFactor { get; init; } = 1.0 / 255.0;

    /// <summary>
    /// Candidate tile grids in id order (<c>aspect_ratio_id</c> = index + 1). Each must have at most <see cref="MaxTiles"/> tiles.
    /// Unless set explicitly, <see cref="TileGrid.AllUpTo"/>(<see cref="MaxTiles"/>), as transformers derives them (also after a
    /// <c>with { MaxTiles = … }</c>).
    /// </summary>
    public IReadOnlyList<TileGrid> SupportedAspectRatios
    {
        get => _supportedAspectRatios ?? TileGrid.AllUpTo(MaxTiles);
        init => _supportedAspectRatios = value;
    }

    /// <summary>
    /// Reads a Hugging Face model folder: <c>preprocessor_config.json</c> when present (<c>size.height</c>, <c>max_image_tiles</c>,
    /// <c>image_mean</c>, <c>image_std</c>, <c>rescale_factor</c>), else <c>config.json</c>'s <c>vision_config.image_size</c> and
    /// <c>vision_config.max_num_tiles</c>. The aspect ratios are derived from the tile limit, as transformers' processor does.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">Neither configuration file exists.</exception>
    /// <exception cref="InvalidDataException">A file is not valid JSON or lacks/misstates a needed value (the message names it).</exception>
    public static ImagePreprocessorOptions FromModelDirectory(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Model directory not found: {directory}");
        }
        string preprocessorPath = Path.Combine(directory, PreprocessorConfigFileName);
        if (File.Exists(preprocessorPath))
        {
            return FromPreprocessorConfig(preprocessorPath);
        }
        string configPath = Path.Combine(directory, ModelConfigFileName);
        if (File.Exists(configPath))
        {
            return FromModelConfig(configPath);
        }
        throw new FileNotFoundException(
            $"Neither {PreprocessorConfigFileName} nor {ModelConfigFileName} exists in {directory}.", preprocessorPath);
    }

    private static ImagePreprocessorOptions FromPreprocessorConfig(string path)
    {
        using JsonDocument doc = ParseJson(path);
        JsonElement root = doc.RootElement;
        JsonElement size = RequireProperty(root, "size", path);
        int height = RequireInt(size, "height", path);
        int width = RequireInt(size, "width", path);
        if (height != width)
        {
            throw new InvalidDataException($"{path}: tiles must be square, but size is {height}×{width}.");
        }
        int maxTiles = RequireInt(root, "max_image_tiles", path);
        var options = Create(height, maxTiles, path);
        if (root.TryGetProperty("image_mean", out JsonElement mean))
        {
            options = options with { ImageMean = ReadTriple(mean, "image_mean", path) };
        }
        if (root.TryGetProperty("image_std", out JsonElement std))
        {
            double[] values = ReadTriple(std, "image_std", path);
            if (values.Any(v => !(v > 0)))
            {
                throw new InvalidDataException($"{path}: image_std values must be positive.");
            }
            options = options with { ImageStd = values };
        }
        if (root.TryGetProperty("rescale_factor", out JsonElement rescale))
        {
            if (rescale.ValueKind != JsonValueKind.Number || !(rescale.GetDouble() > 0))
            {
                throw new InvalidDataException($"{path}: rescale_factor must be a positive number.");
            }
            options = options with { RescaleFactor = rescale.GetDouble() };
        }
        return options;
    }

    private static ImagePreprocessorOptions FromModelConfig(string path)
    {
        using JsonDocument doc = ParseJson(path);
        JsonElement vision = RequireProperty(doc.RootElement, "vision_config", path);
        return Create(RequireInt(vision, "image_size", path), RequireInt(vision, "max_num_tiles", path), path);
    }

    private static ImagePreprocessorOptions Create(int tileSize, int maxTiles, string path)
    {
        if (tileSize <= 0 || maxTiles <= 0 || tileSize > LargestTileSize || maxTiles > LargestMaxTiles)
        {
            throw new InvalidDataException(
                $"{path}: tile size ({tileSize}) must be 1..{LargestTileSize} and the maximum tile count ({maxTiles}) 1..{LargestMaxTiles}.");
        }
        return new ImagePreprocessorOptions(tileSize, maxTiles);
    }

    private static JsonDocument ParseJson(string path)
    {
        try
        {
            return JsonDocument.Parse(BoundedFile.ReadAllBytes(path, BoundedFile.MaxConfigBytes, "config"));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
    }

    private static JsonElement RequireProperty(JsonElement element, string name, string path)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out JsonElement value))
        {
            throw new InvalidDataException($"{path}: missing \"{name}\".");
        }
        return value;
    }

    private static int RequireInt(JsonElement element, string name, string path)
    {
        JsonElement value = RequireProperty(element, name, path);
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int result))
        {
            throw new InvalidDataException($"{path}: \"{name}\" must be an integer, got {value.GetRawText()}.");
        }
        return result;
    }

    private static double[] ReadTriple(JsonElement element, string name, string path)
    {
        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() != 3
            || element.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number))
        {
            throw new InvalidDataException($"{path}: \"{name}\" must be an array of 3 numbers (R, G, B).");
        }
        return [.. element.EnumerateArray().Select(e => e.GetDouble())];
    }
}
