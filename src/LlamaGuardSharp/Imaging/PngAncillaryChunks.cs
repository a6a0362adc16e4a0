using System.Buffers.Binary;

namespace LlamaGuardSharp.Imaging;

/// <summary>
/// Removes the PNG ancillary chunks that cannot change the decoded pixels here before the data reaches libpng: text
/// (tEXt, zTXt, iTXt), colour management (iCCP, gAMA, cHRM, sRGB — ignored anyway, as Pillow ignores them), APNG
/// frames after the default image, private chunks, … libpng parses some of them in time that grows faster than their
/// size (a 20 MB zTXt or unknown chunk took 27–49 s), so an image within the size limit could hold a decoder for
/// minutes. Kept: every critical chunk (IHDR, PLTE, IDAT, IEND, and unknown critical ones, which libpng rejects as
/// before), tRNS (transparency changes the pixels) and, when the caller applies EXIF orientation, a small eXIf.
/// </summary>
internal static class PngAncillaryChunks
{
    /// <summary>Largest eXIf chunk kept for EXIF orientation; a real EXIF block is a few KB.</summary>
    public const int MaxExifBytes = 64 * 1024;

    /// <summary>
    /// The PNG without droppable ancillary chunks, or null when it has none (then the input is used as it is). Bytes
    /// after IEND, and a chunk that runs past the end (a truncated file), are copied unchanged so the codec reports them
    /// as before.
    /// </summary>
    public static byte[]? Strip(ReadOnlySpan<byte> png, bool keepExif)
    {
        if (!HasDroppable(png, keepExif))
        {
            return null;
        }
        using var output = new MemoryStream(png.Length);
        output.Write(png[..8]);
        int offset = 8;
        while (offset + 12 <= png.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.Slice(offset, 4));
            if (length > (uint)(png.Length - offset - 12))
            {
                break;
            }
            ReadOnlySpan<byte> chunk = png.Slice(offset, 12 + (int)length);
            if (!Droppable(chunk.Slice(4, 4), length, keepExif))
            {
                output.Write(chunk);
            }
            offset += chunk.Length;
            if (chunk.Slice(4, 4).SequenceEqual("IEND"u8))
            {
                break;
            }
        }
        output.Write(png[offset..]);
        return output.ToArray();
    }

    private static bool HasDroppable(ReadOnlySpan<byte> png, bool keepExif)
    {
        int offset = 8;
        while (offset + 12 <= png.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.Slice(offset, 4));
            if (length > (uint)(png.Length - offset - 12))
            {
                return false;
            }
            ReadOnlySpan<byte> type = png.Slice(offset + 4, 4);
            if (Droppable(type, length, keepExif))
            {
                return true;
            }
            if (type.SequenceEqual("IEND"u8))
            {
                return false;
            }
            offset += 12 + (int)length;
        }
        return false;
    }

    /// <summary>Ancillary (lower-case first letter) and not tRNS, nor a small eXIf when it is wanted.</summary>
    private static bool Droppable(ReadOnlySpan<byte> type, uint length, bool keepExif) =>
        (type[0] & 0x20) != 0
        && !type.SequenceEqual("tRNS"u8)
        && !(keepExif && type.SequenceEqual("eXIf"u8) && length <= MaxExifBytes);
}
