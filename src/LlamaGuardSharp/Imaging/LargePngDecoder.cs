using System.Buffers.Binary;
using System.IO.Compression;

namespace LlamaGuardSharp.Imaging;

/// <summary>
/// Decodes a PNG whose width or height exceeds libpng's built-in limit of <see cref="LibPngMaxSide"/> pixels (Skia's
/// PNG codec refuses those although they can be well within <see cref="ImageDecoderOptions.MaxPixels"/>, e.g. the
/// 9,999,999×1 image of transformers' <c>test_resize_impractical_aspect_ratio</c>). Every colour type, bit depth and
/// Adam7 interlacing; the output is RGBA8 with the same meaning as Skia's unpremultiplied RGBA (16-bit samples keep their
/// high byte, as Pillow does; tRNS colour keys give alpha 0; 16-bit grayscale is returned as gray = high byte,
/// alpha = low byte, the layout <see cref="PillowRgbConversion.Gray16AsPillow"/> expects). Rows are unfiltered as the
/// zlib stream is read, so memory is the output plus two rows.
/// </summary>
internal static class LargePngDecoder
{
    /// <summary>libpng's <c>PNG_USER_WIDTH_MAX</c>/<c>PNG_USER_HEIGHT_MAX</c>, which Skia keeps.</summary>
    public const int LibPngMaxSide = 1_000_000;

    private static readonly (int X0, int Y0, int Dx, int Dy)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    /// <summary>RGBA8 pixels of the PNG whose header is <paramref name="header"/>.</summary>
    /// <exception cref="ImageDecodeException">invalid header values, missing or damaged chunks, or pixel data that ends early.</exception>
    public static byte[] DecodeRgba(ReadOnlySpan<byte> png, PngHeader header)
    {
        int channels = header.ColorType switch
        {
            0 => 1,
            2 => 3,
            3 => 1,
            4 => 2,
            6 => 4,
            _ => throw Corrupt($"colour type {header.ColorType} is not a PNG colour type"),
        };
        int depth = header.BitDepth;
        bool depthValid = header.ColorType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            _ => depth is 8 or 16,
        };
        if (!depthValid)
        {
            throw Corrupt($"bit depth {depth} is not valid for colour type {header.ColorType}");
        }
        var (idat, palette, trns, interlaced) = ReadChunks(png);
        if (header.ColorType == 3 && palette is null)
        {
            throw Corrupt("the palette image has no PLTE chunk");
        }

        int width = header.Width, height = header.Height;
        var rgba = new byte[(long)width * height * 4];
        var context = new RowContext(header.ColorType, depth, channels, width, palette, trns, rgba);
        using var zlib = new ZLibStream(new MemoryStream(idat, writable: false), CompressionMode.Decompress);
        try
        {
            if (interlaced)
            {
                foreach (var (x0, y0, dx, dy) in Adam7)
                {
                    int passWidth = width > x0 ? (width - x0 + dx - 1) / dx : 0;
                    int passHeight = height > y0 ? (height - y0 + dy - 1) / dy : 0;
                    if (passWidth > 0 && passHeight > 0)
                    {
                        DecodePass(zlib, context, passWidth, passHeight, x0, y0, dx, dy);
                    }
                }
            }
            else
            {
                DecodePass(zlib, context, width, height, 0, 0, 1, 1);
            }
        }
        catch (InvalidDataException e)
        {
            throw new ImageDecodeException(ImageDecodeFailure.Corrupt, $"The Png pixel data of the {width}×{height} image is corrupt ({e.Message}).", e);
        }
        return rgba;
    }

    private sealed record RowContext(int ColorType, int Depth, int Channels, int Width, byte[]? Palette, byte[]? Trns, byte[] Rgba)
    {
        public int BitsPerPixel => Depth * Channels;

        /// <summary>Bytes per complete pixel for the filters (at least 1).</summary>
        public int FilterStride => Math.Max(1, BitsPerPixel / 8);
    }

    private static void DecodePass(Stream zlib, RowContext c, int passWidth, int passHeight, int x0, int y0, int dx, int dy)
    {
        int rowBytes = (int)(((long)passWidth * c.BitsPerPixel + 7) / 8);
        var previous = new byte[rowBytes];
        var current = new byte[rowBytes];
        Span<byte> filter = stackalloc byte[1];
        for (int row = 0; row < passHeight; row++)
        {
            ReadExactly(zlib, filter, c.Width, passHeight);
            ReadExactly(zlib, current, c.Width, passHeight);
            Unfilter(filter[0], current, previous, c.FilterStride);
            Expand(c, current, passWidth, y0 + row * dy, x0, dx);
            (previous, current) = (current, previous);
        }
    }

    private static void ReadExactly(Stream zlib, Span<byte> buffer, int width, int height)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int read = zlib.Read(buffer[done..]);
            if (read == 0)
            {
                throw new ImageDecodeException(ImageDecodeFailure.Truncated,
                    $"The Png data ends before the {width}×{height} image is complete (truncated file).");
            }
            done += read;
        }
    }

    private static void Unfilter(byte type, Span<byte> row, ReadOnlySpan<byte> prior, int bpp)
    {
        switch (type)
        {
            case 0:
                return;
            case 1:
                for (int i = bpp; i < row.Length; i++)
                {
                    row[i] += row[i - bpp];
                }
                return;
            case 2:
                for (int i = 0; i < row.Length; i++)
                {
                    row[i] += prior[i];
                }
                return;
            case 3:
                for (int i = 0; i < row.Length; i++)
                {
                    int left = i >= bpp ? row[i - bpp] : 0;
                    row[i] += (byte)((left + prior[i]) >> 1);
                }
                return;
            case 4:
                for (int i = 0; i < row.Length; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0, b = prior[i], cc = i >= bpp ? prior[i - bpp] : 0;
                    int p = a + b - cc, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - cc);
                    row[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : cc);
                }
                return;
            default:
                throw new ImageDecodeException(ImageDecodeFailure.Corrupt, $"The Png data uses the unknown row filter {type} (corrupt file).");
        }
    }

    /// <summary>Writes one unfiltered row's pixels as RGBA at x = x0, x0 + dx, … of image row <paramref name="y"/>.</summary>
    private static void Expand(RowContext c, ReadOnlySpan<byte> row, int count, int y, int x0, int dx)
    {
        byte[] rgba = c.Rgba;
        long rowStart = (long)y * c.Width;
        for (int i = 0; i < count; i++)
        {
            long o = (rowStart + x0 + (long)i * dx) * 4;
            byte r, g, b, a = 255;
            switch (c.ColorType)
            {
                case 0 when c.Depth == 16:
                    // Gray16 as gray + alpha 8 (see the summary): high byte, low byte.
                    r = g = b = row[2 * i];
                    a = row[2 * i + 1];
                    break;
                case 0:
                {
                    int sample = Sample(row, i, c.Depth);
                    r = g = b = (byte)(sample * 255 / ((1 << c.Depth) - 1));
                    if (c.Trns is { Length: >= 2 } key && BinaryPrimitives.ReadUInt16BigEndian(key) == sample)
                    {
                        a = 0;
                    }
                    break;
                }
                case 2:
                {
                    int step = c.Depth / 8 * 3;
                    int s = i * step, half = c.Depth / 8;
                    r = row[s];
                    g = row[s + half];
                    b = row[s + 2 * half];
                    if (c.Trns is { Length: >= 6 } key && SampleWord(row, s, c.Depth) == BinaryPrimitives.ReadUInt16BigEndian(key)
                        && SampleWord(row, s + half, c.Depth) == BinaryPrimitives.ReadUInt16BigEndian(key.AsSpan(2))
                        && SampleWord(row, s + 2 * half, c.Depth) == BinaryPrimitives.ReadUInt16BigEndian(key.AsSpan(4)))
                    {
                        a = 0;
                    }
                    break;
                }
                case 3:
                {
                    int index = Sample(row, i, c.Depth);
                    byte[] palette = c.Palette!;
                    if (index * 3 + 2 < palette.Length)
                    {
                        r = palette[index * 3];
                        g = palette[index * 3 + 1];
                        b = palette[index * 3 + 2];
                    }
                    else
                    {
                        r = g = b = 0; // an index past the palette: black, as libpng fills it
                    }
                    if (c.Trns is { } alphas && index < alphas.Length)
                    {
                        a = alphas[index];
                    }
                    break;
                }
                case 4:
                {
                    int half = c.Depth / 8, s = i * 2 * half;
                    r = g = b = row[s];
                    a = row[s + half];
                    break;
                }
                default:
                {
                    int half = c.Depth / 8, s = i * 4 * half;
                    r = row[s];
                    g = row[s + half];
                    b = row[s + 2 * half];
                    a = row[s + 3 * half];
                    break;
                }
            }
            rgba[o] = r;
            rgba[o + 1] = g;
            rgba[o + 2] = b;
            rgba[o + 3] = a;
        }
    }

    /// <summary>The <paramref name="index"/>-th sample of 1, 2, 4 or 8 bits (most significant bits first).</summary>
    private static int Sample(ReadOnlySpan<byte> row, int index, int depth)
    {
        if (depth == 8)
        {
            return row[index];
        }
        int bit = index * depth;
        return (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
    }

    private static int SampleWord(ReadOnlySpan<byte> row, int offset, int depth) =>
        depth == 16 ? BinaryPrimitives.ReadUInt16BigEndian(row[offset..]) : row[offset];

    /// <summary>The concatenated IDAT payloads, PLTE, tRNS and the interlace flag; a chunk that runs past the data is truncation.</summary>
    private static (byte[] Idat, byte[]? Palette, byte[]? Trns, bool Interlaced) ReadChunks(ReadOnlySpan<byte> png)
    {
        var idat = new MemoryStream();
        byte[]? palette = null, trns = null;
        bool interlaced = false, sawIend = false;
        int offset = 8;
        while (offset + 8 <= png.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.Slice(offset, 4));
            ReadOnlySpan<byte> type = png.Slice(offset + 4, 4);
            if (length > (uint)(png.Length - offset - 8))
            {
                break; // the chunk runs past the end: the pixel data, if it was in there, ends early
            }
            ReadOnlySpan<byte> data = png.Slice(offset + 8, (int)length);
            if (type.SequenceEqual("IHDR"u8))
            {
                if (data.Length != 13 || data[10] != 0 || data[11] != 0 || data[12] > 1)
                {
                    throw Corrupt("the IHDR chunk has an unknown compression, filter or interlace method");
                }
                interlaced = data[12] == 1;
            }
            else if (type.SequenceEqual("PLTE"u8))
            {
                palette = data.ToArray();
            }
            else if (type.SequenceEqual("tRNS"u8))
            {
                trns = data.ToArray();
            }
            else if (type.SequenceEqual("IDAT"u8))
            {
                idat.Write(data);
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                sawIend = true;
                break;
            }
            offset += 12 + (int)length;
        }
        if (idat.Length == 0)
        {
            throw new ImageDecodeException(sawIend ? ImageDecodeFailure.Corrupt : ImageDecodeFailure.Truncated,
                sawIend ? "The Png file has no IDAT chunk (corrupt file)." : "The Png data ends before its pixel data (truncated file).");
        }
        return (idat.ToArray(), palette, trns, interlaced);
    }

    private static ImageDecodeException Corrupt(string detail) => new(ImageDecodeFailure.Corrupt, $"The Png header is invalid: {detail}.");
}
