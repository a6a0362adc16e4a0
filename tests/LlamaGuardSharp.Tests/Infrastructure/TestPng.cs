using System.Buffers.Binary;
using System.IO.Compression;

namespace LlamaGuardSharp.Tests.Infrastructure;

/// <summary>
/// A small PNG writer for tests: any colour type and bit depth, Adam7 interlacing, a different row filter per row
/// (so that every unfilter path is exercised), and extra chunks where a test wants them.
/// </summary>
public static class TestPng
{
    private static readonly (int X0, int Y0, int Dx, int Dy)[] Adam7 =
        [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];

    /// <summary>
    /// Encodes <paramref name="samples"/> (per pixel, row-major, <c>channels</c> samples each, in the range of
    /// <paramref name="bitDepth"/>) as a PNG.
    /// </summary>
    public static byte[] Encode(int width, int height, int colorType, int bitDepth, ushort[] samples, bool interlaced = false,
        byte[]? palette = null, byte[]? trns = null, IEnumerable<(string Type, byte[] Data)>? extraChunks = null, int idatChunkSize = 1 << 20)
    {
        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        var raw = new MemoryStream();
        if (interlaced)
        {
            foreach (var (x0, y0, dx, dy) in Adam7)
            {
                int pw = width > x0 ? (width - x0 + dx - 1) / dx : 0, ph = height > y0 ? (height - y0 + dy - 1) / dy : 0;
                if (pw == 0 || ph == 0)
                {
                    continue;
                }
                WriteRows(raw, pw, ph, channels, bitDepth, (x, y) => (y0 + y * dy) * (long)width + x0 + x * dx, samples);
            }
        }
        else
        {
            WriteRows(raw, width, height, channels, bitDepth, (x, y) => (long)y * width + x, samples);
        }

        var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)bitDepth;
        ihdr[9] = (byte)colorType;
        ihdr[12] = (byte)(interlaced ? 1 : 0);
        Chunk(png, "IHDR", ihdr);
        foreach (var (type, data) in extraChunks ?? [])
        {
            Chunk(png, type, data);
        }
        if (palette is not null)
        {
            Chunk(png, "PLTE", palette);
        }
        if (trns is not null)
        {
            Chunk(png, "tRNS", trns);
        }
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            raw.Position = 0;
            raw.CopyTo(zlib);
        }
        byte[] z = compressed.ToArray();
        for (int i = 0; i < z.Length; i += idatChunkSize)
        {
            Chunk(png, "IDAT", z.AsSpan(i, Math.Min(idatChunkSize, z.Length - i)).ToArray());
        }
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    public static void Chunk(Stream png, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        System.Text.Encoding.ASCII.GetBytes(type, header[4..]);
        png.Write(header);
        png.Write(data);
        var crcInput = new byte[4 + data.Length];
        header[4..].CopyTo(crcInput);
        data.CopyTo(crcInput.AsSpan(4));
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, LlamaGuardSharp.Imaging.PngHeader.Crc32(crcInput));
        png.Write(crc);
    }

    private static void WriteRows(Stream raw, int width, int height, int channels, int bitDepth, Func<int, int, long> pixelIndex, ushort[] samples)
    {
        int bitsPerPixel = channels * bitDepth;
        int rowBytes = (width * bitsPerPixel + 7) / 8;
        int bpp = Math.Max(1, bitsPerPixel / 8);
        var previous = new byte[rowBytes];
        var current = new byte[rowBytes];
        var filtered = new byte[rowBytes];
        for (int y = 0; y < height; y++)
        {
            Array.Clear(current);
            for (int x = 0; x < width; x++)
            {
                long p = pixelIndex(x, y);
                for (int c = 0; c < channels; c++)
                {
                    int value = samples[p * channels + c];
                    long bit = ((long)x * channels + c) * bitDepth;
                    if (bitDepth == 16)
                    {
                        current[bit / 8] = (byte)(value >> 8);
                        current[bit / 8 + 1] = (byte)value;
                    }
                    else
                    {
                        current[bit / 8] |= (byte)(value << (int)(8 - bitDepth - bit % 8));
                    }
                }
            }
            int filter = y % 5;
            for (int i = 0; i < rowBytes; i++)
            {
                int a = i >= bpp ? current[i - bpp] : 0, b = previous[i], c = i >= bpp ? previous[i - bpp] : 0;
                int predictor = filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) >> 1,
                    _ => Paeth(a, b, c),
                };
                filtered[i] = (byte)(current[i] - predictor);
            }
            raw.WriteByte((byte)filter);
            raw.Write(filtered);
            (previous, current) = (current, previous);
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
