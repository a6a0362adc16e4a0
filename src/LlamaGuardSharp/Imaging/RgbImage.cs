namespace LlamaGuardSharp.Imaging;

/// <summary>
/// A decoded 8-bit RGB image: <see cref="Pixels"/> holds <c>Height × Width × 3</c> bytes, row-major, channels interleaved (HWC, R G B).
/// </summary>
public sealed record RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.LongLength != (long)width * height * 3)
        {
            throw new ArgumentException(
                $"RGB pixel buffer has {pixels.LongLength} bytes, expected {width}×{height}×3 = {(long)width * height * 3}.", nameof(pixels));
        }
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>HWC RGB bytes. Treat as read-only: the array is shared, not copied.</summary>
    public byte[] Pixels { get; }
}
