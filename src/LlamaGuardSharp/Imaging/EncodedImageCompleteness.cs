using System.Buffers.Binary;

namespace LlamaGuardSharp.Imaging;

/// <summary>
/// Tells a truncated file from a corrupt one after a decode failure: each format has an end marker or a declared length, and a
/// stream that lacks it stopped early. (Skia reports truncation as IncompleteInput only for some formats and positions.)
/// </summary>
internal static class EncodedImageCompleteness
{
    public static bool LooksTruncated(EncodedImageFormat format, ReadOnlySpan<byte> data) => format switch
    {
        // Every complete PNG ends with an IEND chunk.
        EncodedImageFormat.Png => data.LastIndexOf("IEND"u8) < 0,
        // The EOI marker; inside entropy-coded data an 0xFF byte is always followed by 0x00, so FF D9 is a real marker.
        EncodedImageFormat.Jpeg => data.LastIndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]) < 0,
        // The GIF trailer byte.
        EncodedImageFormat.Gif => data[^1] != 0x3B,
        // The RIFF header declares the file length.
        EncodedImageFormat.WebP => data.Length < 8 || BinaryPrimitives.ReadUInt32LittleEndian(data[4..]) + 8L > data.Length,
        // BITMAPFILEHEADER.bfSize declares the file length (0 in some writers: then only a short header counts).
        EncodedImageFormat.Bmp => data.Length < 26 || BinaryPrimitives.ReadUInt32LittleEndian(data[2..]) > data.Length,
        _ => false,
    };
}
