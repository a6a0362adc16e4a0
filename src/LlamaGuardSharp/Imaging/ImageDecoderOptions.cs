namespace LlamaGuardSharp.Imaging;

/// <summary>Limits and behaviour switches for <see cref="ImageDecoder"/>.</summary>
public sealed record ImageDecoderOptions
{
    /// <summary>Largest accepted encoded input in bytes (default 20 MB); checked before anything is parsed.</summary>
    public long MaxEncodedBytes { get; init; } = 20L * 1024 * 1024;

    /// <summary>Largest accepted width × height (default 40 megapixels); checked from the header, before pixel data is decoded.</summary>
    public long MaxPixels { get; init; } = 40_000_000;

    /// <summary>
    /// Rotate/flip according to the EXIF Orientation tag. Off by default because the reference (Pillow + transformers) never
    /// applies it, so the model saw images in their stored orientation; turning it on is a deliberate deviation from the reference.
    /// </summary>
    public bool ApplyExifOrientation { get; init; }
}
