using System.Buffers.Binary;
using System.Numerics;

namespace LlamaGuardSharp.Imaging;

/// <summary>
/// Decodes an uncompressed BMP whose width or height exceeds <see cref="SkiaMaxSide"/>, the largest side Skia's BMP codec
/// accepts, although the image may be well within <see cref="ImageDecoderOptions.MaxPixels"/>. Handles what Pillow reads
/// for such files: 1/4/8-bit palettes, 16-bit 5-5-5 and bit-field layouts (5-6-5, 5-5-5; widened as Pillow does), 24-bit, and 32-bit (BI_RGB
/// as B,G,R,unused — Pillow's "BGRX", opaque — or bit fields, with alpha when a mask names it), bottom-up or top-down
/// rows. Output: RGBA8 as Skia's unpremultiplied RGBA. RLE, JPEG- or PNG-compressed BMPs of that size are refused with
/// a message saying exactly that. 16-bit BMPs of any size are decoded here too (see <see cref="IsUncompressed16Bit"/>).
/// </summary>
internal static class LargeBmpDecoder
{
    /// <summary>Skia's BMP codec refuses a width or height above this (65,535).</summary>
    public const int SkiaMaxSide = 65_535;

    private const int BiRgb = 0;
    private const int BiBitfields = 3;
    private const int BiAlphaBitfields = 6;

    /// <summary>The width and height of a BMP with a BITMAPINFOHEADER or later (null for the OS/2 header, whose sides are 16-bit).</summary>
    public static (int Width, int Height)? TryReadSize(ReadOnlySpan<byte> bmp)
    {
        if (bmp.Length < 26 || BinaryPrimitives.ReadUInt32LittleEndian(bmp[14..]) < 40)
        {
            return null;
        }
        int width = BinaryPrimitives.ReadInt32LittleEndian(bmp[18..]);
        int height = BinaryPrimitives.ReadInt32LittleEndian(bmp[22..]);
        return height == int.MinValue ? null : (width, Math.Abs(height));
    }

    /// <summary>
    /// A 16-bit uncompressed or bit-field BMP of any size: Skia widens its 5- and 6-bit channels rounding to nearest, where
    /// Pillow rounds down, so these are always decoded here to match the reference.
    /// </summary>
    public static bool IsUncompressed16Bit(ReadOnlySpan<byte> bmp) =>
        bmp.Length >= 34 && BinaryPrimitives.ReadUInt32LittleEndian(bmp[14..]) >= 40
        && BinaryPrimitives.ReadUInt16LittleEndian(bmp[28..]) == 16
        && BinaryPrimitives.ReadInt32LittleEndian(bmp[30..]) is BiRgb or BiBitfields;

    /// <exception cref="ImageDecodeException">a compressed or malformed file, or pixel data that ends early.</exception>
    public static byte[] DecodeRgba(ReadOnlySpan<byte> bmp, int width, int height)
    {
        if (bmp.Length < 54)
        {
            throw new ImageDecodeException(ImageDecodeFailure.Truncated, "The Bmp data ends inside its header (truncated file).");
        }
        int headerSize = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(bmp[14..]), int.MaxValue);
        bool topDown = BinaryPrimitives.ReadInt32LittleEndian(bmp[22..]) < 0;
        int bitCount = BinaryPrimitives.ReadUInt16LittleEndian(bmp[28..]);
        int compression = BinaryPrimitives.ReadInt32LittleEndian(bmp[30..]);
        long pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(bmp[10..]);
        if (compression is not (BiRgb or BiBitfields or BiAlphaBitfields))
        {
            throw new ImageDecodeException(ImageDecodeFailure.UnsupportedFormat,
                $"This {width}×{height} BMP is compressed (method {compression}); BMPs wider or taller than {SkiaMaxSide:N0} px are decoded only uncompressed.");
        }
        if (bitCount is not (1 or 4 or 8 or 16 or 24 or 32) || (compression != BiRgb && bitCount is not (16 or 32)))
        {
            throw new ImageDecodeException(ImageDecodeFailure.Corrupt, $"The Bmp header declares {bitCount} bits per pixel with compression {compression} (corrupt file).");
        }

        uint[] masks = Masks(bmp, headerSize, bitCount, compression);
        byte[]? palette = bitCount <= 8 ? Palette(bmp, headerSize, bitCount, compression) : null;
        long stride = ((long)width * bitCount + 31) / 32 * 4;
        if (pixelOffset < 14 + headerSize || pixelOffset + stride * height > bmp.Length)
        {
            throw new ImageDecodeException(ImageDecodeFailure.Truncated,
                $"The Bmp data ends before the {width}×{height} image is complete (truncated file).");
        }

        var rgba = new byte[(long)width * height * 4];
        var shifts = masks.Select(m => BitOperations.TrailingZeroCount(m | (m == 0 ? 1u << 31 : 0))).ToArray();
        var bits = masks.Select(m => BitOperations.PopCount(m)).ToArray();
        for (int y = 0; y < height; y++)
        {
            int storedRow = topDown ? y : height - 1 - y;
            ReadOnlySpan<byte> row = bmp.Slice((int)(pixelOffset + storedRow * stride), (int)stride);
            long o = (long)y * width * 4;
            for (int x = 0; x < width; x++, o += 4)
            {
                switch (bitCount)
                {
                    case <= 8:
                    {
                        int bit = x * bitCount;
                        int index = bitCount == 8 ? row[x] : (row[bit >> 3] >> (8 - bitCount - (bit & 7))) & ((1 << bitCount) - 1);
                        int p = index * 4;
                        bool inPalette = p + 2 < palette!.Length;
                        rgba[o] = inPalette ? palette[p + 2] : (byte)0;
                        rgba[o + 1] = inPalette ? palette[p + 1] : (byte)0;
                        rgba[o + 2] = inPalette ? palette[p] : (byte)0;
                        rgba[o + 3] = 255;
                        break;
                    }
                    case 24:
                        rgba[o] = row[x * 3 + 2];
                        rgba[o + 1] = row[x * 3 + 1];
                        rgba[o + 2] = row[x * 3];
                        rgba[o + 3] = 255;
                        break;
                    default:
                    {
                        uint value = bitCount == 16 ? BinaryPrimitives.ReadUInt16LittleEndian(row[(x * 2)..]) : BinaryPrimitives.ReadUInt32LittleEndian(row[(x * 4)..]);
                        for (int channel = 0; channel < 4; channel++)
                        {
                            rgba[o + channel] = masks[channel] == 0
                                ? (byte)(channel == 3 ? 255 : 0)
                                : Scale((value & masks[channel]) >> shifts[channel], bits[channel]);
                        }
                        break;
                    }
                }
            }
        }
        return rgba;
    }

    /// <summary>
    /// An n-bit channel value widened to 8 bits as Pillow's 5- and 6-bit unpackers do: <c>v · 255 / (2ⁿ − 1)</c>, rounded
    /// down (Skia rounds to nearest, which is why every 16-bit BMP is decoded here).
    /// </summary>
    private static byte Scale(uint value, int bitCount) =>
        bitCount >= 8 ? (byte)(value >> (bitCount - 8)) : (byte)(value * 255 / ((1u << bitCount) - 1));

    /// <summary>R, G, B, A masks: from the header for bit fields, else the standard layouts (16-bit 5-5-5; 32-bit B,G,R,unused).</summary>
    private static uint[] Masks(ReadOnlySpan<byte> bmp, int headerSize, int bitCount, int compression)
    {
        if (compression == BiRgb)
        {
            return bitCount == 16 ? [0x7C00, 0x03E0, 0x001F, 0] : [0x00FF0000, 0x0000FF00, 0x000000FF, 0];
        }
        // Bit fields follow a 40-byte header, or sit inside a V2+ header, at offset 54.
        int count = compression == BiAlphaBitfields || headerSize >= 56 ? 4 : 3;
        if (bmp.Length < 54 + 4 * count)
        {
            throw new ImageDecodeException(ImageDecodeFailure.Truncated, "The Bmp data ends inside its bit-field masks (truncated file).");
        }
        var masks = new uint[4];
        for (int i = 0; i < count; i++)
        {
            masks[i] = BinaryPrimitives.ReadUInt32LittleEndian(bmp[(54 + 4 * i)..]);
        }
        if (masks.Take(3).Any(m => m == 0))
        {
            throw new ImageDecodeException(ImageDecodeFailure.Corrupt, "The Bmp bit-field masks leave a colour channel empty (corrupt file).");
        }
        return masks;
    }

    private static byte[] Palette(ReadOnlySpan<byte> bmp, int headerSize, int bitCount, int compression)
    {
        uint used = BinaryPrimitives.ReadUInt32LittleEndian(bmp[46..]);
        int entries = used == 0 || used > 1u << bitCount ? 1 << bitCount : (int)used;
        long start = 14L + headerSize + (compression == BiBitfields && headerSize == 40 ? 12 : 0);
        long available = Math.Max(0, Math.Min(entries * 4L, bmp.Length - start));
        return bmp.Slice((int)Math.Min(start, bmp.Length), (int)available).ToArray();
    }
}
