namespace LlamaGuardSharp.Imaging;

/// <summary>
/// What Pillow 9.4 shows outside a GIF's first frame when that frame is smaller than the logical screen: it starts from an image
/// filled with the frame's transparent index if it has one (white after compositing), else with palette index 0 — whereas Skia
/// leaves those pixels transparent. This reads just enough of the GIF to tell which.
/// </summary>
internal static class GifFirstFrame
{
    /// <summary>
    /// The RGB of palette index 0 of the first frame's palette (local, else global) when the first frame has no transparent index;
    /// null when it has one or the stream cannot be walked (the transparent fill then becomes white, as in Pillow).
    /// </summary>
    public static (byte R, byte G, byte B)? OpaqueBackground(ReadOnlySpan<byte> gif)
    {
        if (gif.Length < 13)
        {
            return null;
        }
        int flags = gif[10];
        int offset = 13;
        int globalTable = -1;
        if ((flags & 0x80) != 0)
        {
            globalTable = offset;
            offset += 3 << ((flags & 7) + 1);
        }
        bool transparent = false;
        while (offset < gif.Length)
        {
            byte block = gif[offset];
            if (block == 0x21)
            {
                if (offset + 2 >= gif.Length)
                {
                    return null;
                }
                byte label = gif[offset + 1];
                // Graphic control extension: block size 4, packed flags bit 0 = transparent colour present.
                if (label == 0xF9 && offset + 3 < gif.Length && gif[offset + 2] == 4)
                {
                    transparent = (gif[offset + 3] & 1) != 0;
                }
                offset += 2;
                while (offset < gif.Length && gif[offset] != 0)
                {
                    offset += gif[offset] + 1;
                }
                offset++;
            }
            else if (block == 0x2C)
            {
                if (transparent || offset + 10 > gif.Length)
                {
                    return null;
                }
                int imageFlags = gif[offset + 9];
                int table = (imageFlags & 0x80) != 0 ? offset + 10 : globalTable;
                if (table < 0 || table + 3 > gif.Length)
                {
                    return (0, 0, 0);
                }
                return (gif[table], gif[table + 1], gif[table + 2]);
            }
            else
            {
                return null;
            }
        }
        return null;
    }
}
