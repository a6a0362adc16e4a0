namespace LlamaGuardSharp.Imaging;

/// <summary>Why an image could not be decoded (see <see cref="ImageDecodeException.Reason"/>).</summary>
public enum ImageDecodeFailure
{
    /// <summary>The input has no bytes.</summary>
    Empty,

    /// <summary>The encoded input is larger than <see cref="ImageDecoderOptions.MaxEncodedBytes"/>.</summary>
    EncodedTooLarge,

    /// <summary>The header announces more pixels than <see cref="ImageDecoderOptions.MaxPixels"/> (decompression-bomb guard).</summary>
    TooManyPixels,

    /// <summary>The header announces a width or height of zero.</summary>
    ZeroSize,

    /// <summary>The bytes are not JPEG, PNG, WebP, GIF or BMP.</summary>
    UnsupportedFormat,

    /// <summary>The data ends before the image is complete.</summary>
    Truncated,

    /// <summary>The header or the compressed data is malformed.</summary>
    Corrupt,
}
