using System.Buffers.Binary;
using System.Text.Json;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Hardening;

/// <summary>
/// Issue 17 item 7, first defect: valid PNGs with a side over libpng's 1,000,000 px and BMPs with a side over Skia's
/// 65,535 px are within the 40-megapixel limit and are decoded (by our own readers), never called "truncated or
/// corrupt". Each reader is checked pixel for pixel against Skia: the same pixel sequence laid out as a 1000×1000 (PNG)
/// or 256×256 (BMP) image, which Skia decodes, must come out identical (16-bit BMPs: against Pillow's formula, which
/// Skia does not follow).
/// </summary>
public sealed class LargeSideImageTests
{
    private static readonly ImageDecoder Decoder = new();

    public static TheoryData<int, int, bool> PngKinds()
    {
        var data = new TheoryData<int, int, bool>();
        foreach (bool interlaced in new[] { false, true })
        {
            foreach (var (colorType, depths) in new (int, int[])[] { (0, [1, 2, 4, 8, 16]), (2, [8, 16]), (3, [1, 2, 4, 8]), (4, [8, 16]), (6, [8, 16]) })
            {
                foreach (int depth in depths)
                {
                    data.Add(colorType, depth, interlaced);
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(PngKinds))]
    public void A_png_with_a_side_over_a_million_pixels_decodes_like_skia_decodes_the_same_pixels(int colorType, int depth, bool interlaced)
    {
        const int small = 1000, n = small * small;
        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        var random = new Random(colorType * 100 + depth + (interlaced ? 7 : 0));
        int max = colorType == 3 ? Math.Min(1 << depth, 200) - 1 : (1 << depth) - 1;
        var samples = new ushort[(long)(n + 3) * channels];
        for (long i = 0; i < samples.Length; i++)
        {
            samples[i] = (ushort)random.Next(max + 1);
        }
        byte[]? palette = null, trns = null;
        if (colorType == 3)
        {
            palette = new byte[3 * (max + 1)];
            random.NextBytes(palette);
            trns = new byte[Math.Min(max + 1, 7)];
            random.NextBytes(trns);
        }
        else if (colorType == 0)
        {
            trns = new byte[2];
            BinaryPrimitives.WriteUInt16BigEndian(trns, samples[5]); // a key that occurs
        }

        RgbImage reference = Decoder.Decode(TestPng.Encode(small, small, colorType, depth, samples, interlaced, palette, trns));
        foreach (var (width, height) in new[] { (n + 3, 1), (1, n + 3) })
        {
            RgbImage large = Decoder.Decode(TestPng.Encode(width, height, colorType, depth, samples, interlaced, palette, trns));
            Assert.Equal((width, height), (large.Width, large.Height));
            Assert.True(large.Pixels.AsSpan(0, n * 3).SequenceEqual(reference.Pixels), $"{width}×{height}: pixels differ from Skia's");
        }
    }

    [Fact]
    public async Task The_impractical_aspect_ratios_of_transformers_tests_preprocess_like_the_reference()
    {
        string dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"lgs-wide-{Guid.NewGuid():N}")).FullName;
        try
        {
            foreach (var (width, height, canvas, resized, tiles) in new[]
                     {
                         (1_000_001, 1, "[560,2240]", "[1,2240]", "[1,4]"),
                         (9_999_999, 1, "[560,2240]", "[1,2240]", "[1,4]"),
                         (1, 1_000_001, "[2240,560]", "[2240,1]", "[4,1]"),
                     })
            {
                string path = Path.Combine(dir, $"{width}x{height}.png");
                await File.WriteAllBytesAsync(path, TestPng.Encode(width, height, 0, 8, new ushort[(long)width * height]));
                var (code, output, error) = await CliRunner.RunAsync("preprocess", "--image", path, "--json");
                Assert.True(code == 0, error);
                var json = JsonDocument.Parse(output).RootElement;
                Assert.Equal($"[{height},{width}]", json.GetProperty("image").GetRawText());
                Assert.Equal(canvas, json.GetProperty("canvas").GetRawText());
                Assert.Equal(resized, json.GetProperty("resized").GetRawText());
                Assert.Equal(tiles, json.GetProperty("tiles").GetRawText());
            }

            // Past the pixel limit the error is the pixel limit, not "corrupt".
            string tooMany = Path.Combine(dir, "too-many.png");
            await File.WriteAllBytesAsync(tooMany, TestPng.Encode(40_000_001, 1, 0, 1, new ushort[40_000_001]));
            var (tooCode, _, tooError) = await CliRunner.RunAsync("preprocess", "--image", tooMany);
            Assert.Equal(1, tooCode);
            Assert.Contains("more than the limit of 40000000", tooError);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static TheoryData<int, int, bool> BmpKinds => new()
    {
        { 1, 0, false }, { 4, 0, false }, { 8, 0, false }, { 8, 0, true }, { 16, 0, false }, { 16, 3, false }, { 24, 0, false }, { 24, 0, true },
        { 32, 0, false }, { 32, 3, false },
    };

    [Theory]
    [MemberData(nameof(BmpKinds))]
    public void A_bmp_with_a_side_over_65535_pixels_decodes_like_skia_decodes_the_same_pixels(int bitCount, int compression, bool topDown)
    {
        const int small = 256, n = small * small;
        var random = new Random(bitCount * 10 + compression);
        var pixels = new uint[n + 5];
        var palette = new byte[4 << Math.Min(bitCount, 8)];
        random.NextBytes(palette);
        for (int i = 3; i < palette.Length; i += 4)
        {
            palette[i] = 0;
        }
        for (int i = 0; i < pixels.Length; i++)
        {
            pixels[i] = bitCount switch
            {
                <= 8 => (uint)random.Next(1 << bitCount),
                16 => (uint)random.Next(1 << 16) & (compression == 0 ? 0x7FFFu : 0xFFFFu),
                24 => (uint)random.Next(1 << 24),
                _ => compression == 0 ? (uint)random.Next(1 << 24) : (uint)random.Next(1 << 24) | 0xFF000000u,
            };
        }
        byte[] expected = bitCount == 16
            ? Pillow16Bit(pixels.AsSpan(0, n), compression == 0)
            : Decoder.Decode(Bmp(small, small, bitCount, compression, topDown, pixels, palette)).Pixels;
        foreach (var (width, height) in bitCount == 16 ? new[] { (small, small), (n + 5, 1), (1, n + 5) } : [(n + 5, 1), (1, n + 5)])
        {
            RgbImage large = Decoder.Decode(Bmp(width, height, bitCount, compression, topDown, pixels, palette));
            Assert.Equal((width, height), (large.Width, large.Height));
            int d = large.Pixels.AsSpan(0, n * 3).CommonPrefixLength(expected);
            Assert.True(d == n * 3, $"{width}×{height}: pixel {d / 3} (raw {pixels[d / 3]:X}) differs from the reference");
        }
    }

    /// <summary>
    /// Pillow's unpackers for 16-bit BMPs ("BGR;15", "BGR;16"): each channel <c>v · 255 / (2ⁿ − 1)</c> rounded down. Skia
    /// rounds to nearest, so for 16 bits the reference is Pillow's formula, not Skia — at every size, small ones included.
    /// </summary>
    private static byte[] Pillow16Bit(ReadOnlySpan<uint> pixels, bool rgb555)
    {
        var rgb = new byte[pixels.Length * 3];
        for (int i = 0; i < pixels.Length; i++)
        {
            uint p = pixels[i];
            (uint r, uint g, uint b) = rgb555
                ? (((p >> 10) & 31) * 255 / 31, ((p >> 5) & 31) * 255 / 31, (p & 31) * 255 / 31)
                : (((p >> 11) & 31) * 255 / 31, ((p >> 5) & 63) * 255 / 63, (p & 31) * 255 / 31);
            rgb[3 * i] = (byte)r;
            rgb[3 * i + 1] = (byte)g;
            rgb[3 * i + 2] = (byte)b;
        }
        return rgb;
    }

    [Fact]
    public void A_compressed_bmp_over_65535_pixels_names_that_limit_not_corruption()
    {
        byte[] bmp = Bmp(70_000, 1, 8, 0, false, new uint[70_000], new byte[1024]);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(30), 1); // BI_RLE8
        var e = Assert.Throws<ImageDecodeException>(() => Decoder.Decode(bmp));
        Assert.Equal(ImageDecodeFailure.UnsupportedFormat, e.Reason);
        Assert.Contains("wider or taller than 65,535 px are decoded only uncompressed", e.Message);
        Assert.DoesNotContain("corrupt", e.Message);
    }

    /// <summary>A BMP (BITMAPINFOHEADER; bit fields 5-6-5 for 16 bits, B,G,R,A for 32) of the first width × height pixels.</summary>
    private static byte[] Bmp(int width, int height, int bitCount, int compression, bool topDown, uint[] pixels, byte[] palette)
    {
        int paletteBytes = bitCount <= 8 ? 4 << bitCount : 0;
        int maskBytes = compression == 3 ? (bitCount == 32 ? 16 : 12) : 0;
        long stride = ((long)width * bitCount + 31) / 32 * 4;
        int offset = 14 + 40 + maskBytes + paletteBytes;
        var bmp = new byte[offset + stride * height];
        bmp[0] = (byte)'B';
        bmp[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), offset);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), topDown ? -height : height);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), (short)bitCount);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(30), compression == 3 && bitCount == 32 ? 6 : compression);
        if (compression == 3)
        {
            uint[] masks = bitCount == 16 ? [0xF800, 0x07E0, 0x001F] : [0x00FF0000, 0x0000FF00, 0x000000FF, 0xFF000000];
            for (int i = 0; i < masks.Length; i++)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan(54 + 4 * i), masks[i]);
            }
        }
        palette.AsSpan(0, paletteBytes).CopyTo(bmp.AsSpan(54 + maskBytes));
        for (int y = 0; y < height; y++)
        {
            long row = offset + (topDown ? y : height - 1 - y) * stride;
            for (int x = 0; x < width; x++)
            {
                uint value = pixels[(long)y * width + x];
                long bit = (long)x * bitCount;
                switch (bitCount)
                {
                    case <= 8:
                        bmp[row + bit / 8] |= (byte)(value << (int)(8 - bitCount - bit % 8));
                        break;
                    case 16:
                        BinaryPrimitives.WriteUInt16LittleEndian(bmp.AsSpan((int)(row + x * 2)), (ushort)value);
                        break;
                    case 24:
                        bmp[row + x * 3] = (byte)value;
                        bmp[row + x * 3 + 1] = (byte)(value >> 8);
                        bmp[row + x * 3 + 2] = (byte)(value >> 16);
                        break;
                    default:
                        BinaryPrimitives.WriteUInt32LittleEndian(bmp.AsSpan((int)(row + x * 4)), value);
                        break;
                }
            }
        }
        return bmp;
    }
}
