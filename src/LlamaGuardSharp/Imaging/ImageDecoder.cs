using System.Runtime.InteropServices;
using LlamaGuardSharp.IO;
using SkiaSharp;

namespace LlamaGuardSharp.Imaging;

/// <summary>
/// Decodes JPEG, PNG (any bit depth and colour type), WebP, GIF (first frame) and BMP into 8-bit RGB exactly as the reference
/// pipeline (Pillow 9.4 + transformers' <c>convert_to_rgb</c>) does: images Pillow opens as "RGB" pass through unchanged, everything
/// else goes through RGBA and is alpha-composited over opaque white with Pillow's integer arithmetic.
/// </summary>
/// <remarks>
/// Skia decodes to unpremultiplied RGBA8888 with no destination colour space, so no colour management is applied (Pillow ignores
/// ICC profiles and gAMA too). Decoding is all-or-nothing: a truncated or damaged stream that Skia can only partly decode is an
/// <see cref="ImageDecodeException"/>, never a half-grey image. Thread-safe: an instance holds only its immutable options.
/// </remarks>
public sealed class ImageDecoder
{
    public ImageDecoder(ImageDecoderOptions? options = null)
    {
        Options = options ?? new ImageDecoderOptions();
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Options.MaxEncodedBytes, nameof(options));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Options.MaxPixels, nameof(options));
    }

    public ImageDecoderOptions Options { get; }

    /// <summary>
    /// Reads and decodes a regular file; the size limit is checked as the bytes arrive (<see cref="BoundedFile"/>), so a
    /// device, FIFO or growing file cannot make it read without bound.
    /// </summary>
    /// <exception cref="FileNotFoundException">no file at <paramref name="path"/>.</exception>
    /// <exception cref="InputFileException">a directory, FIFO or device, or unreadable.</exception>
    /// <exception cref="ImageDecodeException">larger than <see cref="ImageDecoderOptions.MaxEncodedBytes"/>, or not a decodable image.</exception>
    public async Task<RgbImage> DecodeFileAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes;
        try
        {
            bytes = await BoundedFile.ReadAllBytesAsync(path, Options.MaxEncodedBytes, "image file", cancellationToken).ConfigureAwait(false);
        }
        catch (InputFileException e) when (e.Problem == InputFileProblem.TooLarge)
        {
            throw new ImageDecodeException(ImageDecodeFailure.EncodedTooLarge, e.Message);
        }
        cancellationToken.ThrowIfCancellationRequested();
        return Decode(bytes);
    }

    public RgbImage Decode(ReadOnlySpan<byte> encoded)
    {
        if (encoded.IsEmpty)
        {
            throw new ImageDecodeException(ImageDecodeFailure.Empty, "The image data is empty (0 bytes).");
        }
        if (encoded.Length > Options.MaxEncodedBytes)
        {
            throw new ImageDecodeException(ImageDecodeFailure.EncodedTooLarge,
                $"The image data has {encoded.Length} bytes, more than the limit of {Options.MaxEncodedBytes}.");
        }
        EncodedImageFormat format = EncodedImageFormatSniffer.Sniff(encoded);
        if (format == EncodedImageFormat.Unknown)
        {
            throw new ImageDecodeException(ImageDecodeFailure.UnsupportedFormat,
                "The data is not a supported image format (expected JPEG, PNG, WebP, GIF or BMP signature bytes).");
        }

        PngHeader? png = null;
        byte[]? rewritten = null;
        if (format == EncodedImageFormat.Png)
        {
            png = PngHeader.TryRead(encoded)
                ?? throw new ImageDecodeException(
                    encoded.Length < 33 || EncodedImageCompleteness.LooksTruncated(format, encoded) ? ImageDecodeFailure.Truncated : ImageDecodeFailure.Corrupt,
                    "The PNG header (IHDR chunk) is missing or malformed.");
            CheckDimensions(format, png.Width, png.Height);
            if (png.Width > LargePngDecoder.LibPngMaxSide || png.Height > LargePngDecoder.LibPngMaxSide)
            {
                return FromRgba(LargePngDecoder.DecodeRgba(encoded, png), png.Width, png.Height, format, png);
            }
            rewritten = PngAncillaryChunks.Strip(encoded, keepExif: Options.ApplyExifOrientation);
            if (png.IsGray16)
            {
                rewritten = PngHeader.RelabelGray16AsGrayAlpha8(rewritten ?? encoded);
            }
        }
        else if (format == EncodedImageFormat.Bmp && LargeBmpDecoder.TryReadSize(encoded) is var (bmpWidth, bmpHeight)
                 && (bmpWidth > LargeBmpDecoder.SkiaMaxSide || bmpHeight > LargeBmpDecoder.SkiaMaxSide || LargeBmpDecoder.IsUncompressed16Bit(encoded)))
        {
            CheckDimensions(format, bmpWidth, bmpHeight);
            return FromRgba(LargeBmpDecoder.DecodeRgba(encoded, bmpWidth, bmpHeight), bmpWidth, bmpHeight, format, null);
        }

        using SKData data = rewritten is null ? SKData.CreateCopy(encoded) : SKData.CreateCopy(rewritten);
        using SKCodec? codec = SKCodec.Create(data);
        if (codec is null)
        {
            throw new ImageDecodeException(HeaderFailureReason(format, encoded),
                $"The {format} header could not be parsed (truncated or corrupt data).");
        }
        SKImageInfo encodedInfo = codec.Info;
        CheckDimensions(format, encodedInfo.Width, encodedInfo.Height);

        var info = new SKImageInfo(encodedInfo.Width, encodedInfo.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul, null);
        var rgba = new byte[info.BytesSize64];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* pixels = rgba)
            {
                // FrameIndex 0: the first GIF/WebP frame, which is what Pillow shows after Image.open.
                result = codec.GetPixels(info, (IntPtr)pixels, info.RowBytes, new SKCodecOptions(0));
            }
        }
        if (result != SKCodecResult.Success)
        {
            bool truncated = result == SKCodecResult.IncompleteInput || EncodedImageCompleteness.LooksTruncated(format, encoded);
            throw truncated
                ? new ImageDecodeException(ImageDecodeFailure.Truncated,
                    $"The {format} data ends before the {info.Width}×{info.Height} image is complete (truncated file).")
                : new ImageDecodeException(ImageDecodeFailure.Corrupt,
                    $"The {format} pixel data of the {info.Width}×{info.Height} image is corrupt ({result}).");
        }

        byte[] rgb = ToPillowRgb(rgba, info.Width, info.Height, format, png);

        if (format == EncodedImageFormat.Gif && codec.FrameCount > 0)
        {
            FillOutsideFirstFrame(rgb, info.Width, info.Height, codec.FrameInfo[0].FrameRect, encoded);
        }

        var image = new RgbImage(info.Width, info.Height, rgb);
        return Options.ApplyExifOrientation ? ExifOrientation.Apply(image, codec.EncodedOrigin) : image;
    }

    /// <summary>An image decoded without Skia (a side beyond its codec's limit): the same conversion, no EXIF, no GIF frame.</summary>
    private static RgbImage FromRgba(byte[] rgba, int width, int height, EncodedImageFormat format, PngHeader? png) =>
        new(width, height, ToPillowRgb(rgba, width, height, format, png));

    /// <summary>Unpremultiplied RGBA8 to the RGB the reference sees (see the class summary).</summary>
    private static byte[] ToPillowRgb(byte[] rgba, int width, int height, EncodedImageFormat format, PngHeader? png)
    {
        var rgb = new byte[(long)width * height * 3];
        if (png is { IsGray16: true })
        {
            PillowRgbConversion.Gray16AsPillow(rgba, rgb, png.GrayTransparentValue);
        }
        else if (OpensAsPillowRgb(format, png))
        {
            PillowRgbConversion.DropAlpha(rgba, rgb);
        }
        else
        {
            PillowRgbConversion.CompositeRgbaOverWhite(rgba, rgb);
        }
        return rgb;
    }

    /// <summary>
    /// True where Pillow's mode is "RGB", so the reference skips compositing and ignores any transparency: truecolour PNG (a tRNS
    /// colour key does not make Pillow add alpha) and JPEG (always opaque; grayscale JPEG decodes to equal R=G=B either way).
    /// </summary>
    private static bool OpensAsPillowRgb(EncodedImageFormat format, PngHeader? png) =>
        format == EncodedImageFormat.Jpeg || (png is not null && png.ColorType == PngHeader.ColorTypeRgb);

    /// <summary>Pixels outside a GIF's first frame take Pillow's fill colour (see <see cref="GifFirstFrame"/>).</summary>
    private static void FillOutsideFirstFrame(byte[] rgb, int width, int height, SKRectI frame, ReadOnlySpan<byte> encoded)
    {
        int left = Math.Clamp(frame.Left, 0, width);
        int top = Math.Clamp(frame.Top, 0, height);
        int right = Math.Clamp(frame.Right, left, width);
        int bottom = Math.Clamp(frame.Bottom, top, height);
        if (left == 0 && top == 0 && right == width && bottom == height)
        {
            return;
        }
        if (GifFirstFrame.OpaqueBackground(encoded) is not (byte r, byte g, byte b))
        {
            return;
        }
        for (int y = 0; y < height; y++)
        {
            bool rowInside = y >= top && y < bottom;
            for (int x = 0; x < width; x++)
            {
                if (!rowInside || x < left || x >= right)
                {
                    int i = (y * width + x) * 3;
                    rgb[i] = r;
                    rgb[i + 1] = g;
                    rgb[i + 2] = b;
                }
            }
        }
    }

    private void CheckDimensions(EncodedImageFormat format, int width, int height)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ImageDecodeException(ImageDecodeFailure.ZeroSize, $"The {format} header declares an empty image ({width}×{height}).");
        }
        long pixels = (long)width * height;
        // The RGBA staging buffer must also fit one .NET array, whatever limit the caller configured.
        if (pixels > Options.MaxPixels || pixels * 4 > Array.MaxLength)
        {
            throw new ImageDecodeException(ImageDecodeFailure.TooManyPixels,
                $"The {format} header declares {width}×{height} = {pixels} pixels, more than the limit of {Math.Min(Options.MaxPixels, Array.MaxLength / 4)}.");
        }
    }

    /// <summary>A codec that cannot even read the header: truncated if the stream lacks its end (or stops inside the header), else corrupt.</summary>
    private static ImageDecodeFailure HeaderFailureReason(EncodedImageFormat format, ReadOnlySpan<byte> data)
    {
        if (EncodedImageCompleteness.LooksTruncated(format, data))
        {
            return ImageDecodeFailure.Truncated;
        }
        if (format == EncodedImageFormat.Jpeg && !ContainsJpegFrameHeader(data))
        {
            return ImageDecodeFailure.Truncated;
        }
        return ImageDecodeFailure.Corrupt;
    }

    /// <summary>Whether a SOFn marker appears at all; without one, the JPEG stopped before its frame header.</summary>
    private static bool ContainsJpegFrameHeader(ReadOnlySpan<byte> data)
    {
        for (int i = 2; i + 1 < data.Length; i++)
        {
            if (data[i] == 0xFF && data[i + 1] is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
            {
                return true;
            }
        }
        return false;
    }
}
