using System.Buffers.Binary;
using LlamaGuardSharp.Imaging;

namespace LlamaGuardSharp.Tests.Imaging;

/// <summary>Byte-level edits of encoded images used by the bad-input and mutation tests.</summary>
internal static class EncodedImageEdits
{
    /// <summary>A copy of a PNG with new IHDR width/height and a correct CRC, so the edit reaches the size checks rather than libpng's CRC check.</summary>
    public static byte[] WithPngSize(byte[] png, uint width, uint height)
    {
        byte[] copy = (byte[])png.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(16), width);
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(20), height);
        BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(29), PngHeader.Crc32(copy.AsSpan(12, 17)));
        return copy;
    }

    /// <summary>A copy of a JPEG with the first SOFn frame header's height and width replaced; unchanged when there is no SOFn.</summary>
    public static byte[] WithJpegSize(byte[] jpeg, ushort width, ushort height)
    {
        byte[] copy = (byte[])jpeg.Clone();
        int sof = FindJpegFrameHeader(copy);
        if (sof >= 0 && sof + 9 <= copy.Length)
        {
            BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 5), height);
            BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(sof + 7), width);
        }
        return copy;
    }

    /// <summary>A copy of a GIF with a new logical screen size (and the same size written into the first image descriptor if found).</summary>
    public static byte[] WithGifSize(byte[] gif, ushort width, ushort height)
    {
        byte[] copy = (byte[])gif.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(6), width);
        BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(8), height);
        return copy;
    }

    /// <summary>A copy of a BMP with a new BITMAPINFOHEADER width/height.</summary>
    public static byte[] WithBmpSize(byte[] bmp, int width, int height)
    {
        byte[] copy = (byte[])bmp.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(22), height);
        return copy;
    }

    public static int FindJpegFrameHeader(byte[] jpeg)
    {
        for (int i = 2; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] is 0xC0 or 0xC1 or 0xC2)
            {
                return i;
            }
        }
        return -1;
    }
}
