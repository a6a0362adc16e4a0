using System.Buffers.Binary;

namespace LlamaGuardSharp.Imaging;

/// <summary>
/// The few PNG header facts needed to mimic Pillow's mode choice (which Skia does not expose): colour type, bit depth and a
/// grayscale tRNS value; plus the rewrite that lets Skia hand us 16-bit grayscale samples intact.
/// </summary>
internal sealed record PngHeader(int Width, int Height, int BitDepth, int ColorType, int? GrayTransparentValue)
{
    public const int ColorTypeGray = 0;
    public const int ColorTypeRgb = 2;
    public const int ColorTypeGrayAlpha = 4;

    public bool IsGray16 => ColorType == ColorTypeGray && BitDepth == 16;

    /// <summary>Reads IHDR (which must be the first chunk) and a tRNS chunk before IDAT, if any; null when the header is unreadable.</summary>
    public static PngHeader? TryRead(ReadOnlySpan<byte> png)
    {
        const int ihdrStart = 8;
        if (png.Length < ihdrStart + 8 + 13 || !png.Slice(ihdrStart + 4, 4).SequenceEqual("IHDR"u8)
            || BinaryPrimitives.ReadUInt32BigEndian(png.Slice(ihdrStart, 4)) != 13)
        {
            return null;
        }
        ReadOnlySpan<byte> ihdr = png.Slice(ihdrStart + 8, 13);
        uint width = BinaryPrimitives.ReadUInt32BigEndian(ihdr);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(ihdr[4..]);
        if (width > int.MaxValue || height > int.MaxValue)
        {
            return null;
        }
        int? grayTrns = null;
        int offset = ihdrStart + 8 + 13 + 4;
        while (offset + 8 <= png.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.Slice(offset, 4));
            ReadOnlySpan<byte> type = png.Slice(offset + 4, 4);
            if (type.SequenceEqual("IDAT"u8) || length > (uint)(png.Length - offset - 12))
            {
                break;
            }
            if (type.SequenceEqual("tRNS"u8) && length >= 2)
            {
                grayTrns = BinaryPrimitives.ReadUInt16BigEndian(png.Slice(offset + 8, 2));
            }
            offset += 12 + (int)length;
        }
        return new PngHeader((int)width, (int)height, ihdr[8], ihdr[9], grayTrns);
    }

    /// <summary>
    /// Skia reduces 16-bit grayscale to its high byte, but Pillow opens it as 32-bit integers and clips them to 0..255 on conversion.
    /// To recover both bytes, relabel the image as 8-bit gray+alpha: the scanlines are byte-identical (2 bytes per pixel, same
    /// filter stride, same interlacing), so Skia returns the high byte as gray and the low byte as alpha. The tRNS chunk is dropped
    /// (it is invalid for gray+alpha); the caller applies it the way Pillow does.
    /// </summary>
    public static byte[] RelabelGray16AsGrayAlpha8(ReadOnlySpan<byte> png)
    {
        using var output = new MemoryStream(png.Length);
        output.Write(png[..8]);
        int offset = 8;
        bool first = true;
        Span<byte> ihdr = stackalloc byte[4 + 13];
        Span<byte> crc = stackalloc byte[4];
        while (offset + 12 <= png.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.Slice(offset, 4));
            if (length > (uint)(png.Length - offset - 12))
            {
                // Truncated chunk: copy the rest unchanged and let the codec report it.
                output.Write(png[offset..]);
                return output.ToArray();
            }
            ReadOnlySpan<byte> chunk = png.Slice(offset, 12 + (int)length);
            ReadOnlySpan<byte> type = chunk.Slice(4, 4);
            if (first && type.SequenceEqual("IHDR"u8) && length == 13)
            {
                chunk.Slice(4, 4 + 13).CopyTo(ihdr);
                ihdr[4 + 8] = 8;
                ihdr[4 + 9] = ColorTypeGrayAlpha;
                output.Write(chunk[..4]);
                output.Write(ihdr);
                BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32(ihdr));
                output.Write(crc);
            }
            else if (!type.SequenceEqual("tRNS"u8))
            {
                output.Write(chunk);
            }
            first = false;
            offset += chunk.Length;
        }
        output.Write(png[offset..]);
        return output.ToArray();
    }

    /// <summary>PNG's CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), needed because libpng rejects a critical chunk with a bad CRC.</summary>
    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }
        return ~crc;
    }
}
