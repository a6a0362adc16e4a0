namespace LlamaGuardSharp.Imaging;

/// <summary>Geometry decided for one input size: the tile grid (and its id) and the size the image is resized to before padding.</summary>
public sealed record PreprocessingPlan(
    TileGrid Grid,
    int AspectRatioId,
    int CanvasHeight,
    int CanvasWidth,
    int ResizedHeight,
    int ResizedWidth);
