using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Imaging;

/// <summary>Every kind of bad input ends in an <see cref="ImageDecodeException"/> with the right reason and a useful message.</summary>
public sealed class DecoderBadInputTests
{
    private static readonly ImageDecoder Decoder = new();

    private static byte[] Golden(string name) => File.ReadAllBytes(TestData.Golden("images", name));

    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(TestData.DataDir, "imaging", name));

    private static ImageDecodeException Fails(byte[] data, ImageDecodeFailure reason, ImageDecoder? decoder = null)
    {
        var e = Assert.Throws<ImageDecodeException>(() => (decoder ?? Decoder).Decode(data));
        Assert.Equal(reason, e.Reason);
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        return e;
    }

    [Fact]
    public void Empty_IsEmpty()
    {
        var e = Fails([], ImageDecodeFailure.Empty);
        Assert.Contains("empty", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("hello, this is text, not an image")]
    [InlineData("II*\0")] // TIFF
    [InlineData("\0\0\u0001\0")] // ICO
    [InlineData("<svg xmlns=\"http://www.w3.org/2000/svg\"/>")]
    public void UnknownSignature_IsUnsupportedFormat(string content)
    {
        var e = Fails(System.Text.Encoding.Latin1.GetBytes(content), ImageDecodeFailure.UnsupportedFormat);
        Assert.Contains("JPEG, PNG, WebP, GIF or BMP", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EncodedSizeLimit_IsCheckedFirst()
    {
        var small = new ImageDecoder(new ImageDecoderOptions { MaxEncodedBytes = 1000 });
        var e = Fails(Golden("p_chelsea.png"), ImageDecodeFailure.EncodedTooLarge, small);
        Assert.Contains("1000", e.Message, StringComparison.Ordinal);
        // Even garbage of that size is rejected for its size, before its format is looked at.
        Fails(new byte[1001], ImageDecodeFailure.EncodedTooLarge, small);
    }

    [Fact]
    public async Task EncodedSizeLimit_FileIsRejectedBeforeReading()
    {
        var small = new ImageDecoder(new ImageDecoderOptions { MaxEncodedBytes = 1000 });
        var e = await Assert.ThrowsAsync<ImageDecodeException>(() => small.DecodeFileAsync(TestData.Golden("images", "p_chelsea.png")));
        Assert.Equal(ImageDecodeFailure.EncodedTooLarge, e.Reason);
        Assert.Contains("p_chelsea.png", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingFile_IsFileNotFound()
    {
        await Assert.ThrowsAsync<FileNotFoundException>(() => Decoder.DecodeFileAsync(Path.Combine(TestData.DataDir, "no-such-image.png")));
    }

    [Fact]
    public void DefaultLimits_AreTwentyMegabytesAndFortyMegapixels()
    {
        Assert.Equal(20L * 1024 * 1024, Decoder.Options.MaxEncodedBytes);
        Assert.Equal(40_000_000, Decoder.Options.MaxPixels);
        Assert.False(Decoder.Options.ApplyExifOrientation);
    }

    public static TheoryData<string, byte[]> Bombs() => new()
    {
        // Headers that announce gigapixel images over a few KB of data: rejected from the header, before any allocation.
        { "png 100000x100000", EncodedImageEdits.WithPngSize(Golden("p_tiny_5x4.png"), 100_000, 100_000) },
        { "png 2^31-1 x 1", EncodedImageEdits.WithPngSize(Golden("p_tiny_5x4.png"), int.MaxValue, 1) },
        { "png 40000x1001", EncodedImageEdits.WithPngSize(Golden("p_tiny_5x4.png"), 40_000, 1001) },
        { "jpeg 65000x65000", EncodedImageEdits.WithJpegSize(Golden("p_rocket.jpg"), 65_000, 65_000) },
        { "gif 65535x65535", EncodedImageEdits.WithGifSize(Fixture("gif_plain.gif"), 65_535, 65_535) },
        { "bmp 30000x30000", EncodedImageEdits.WithBmpSize(Fixture("bmp_rgb24.bmp"), 30_000, 30_000) },
    };

    [Theory]
    [MemberData(nameof(Bombs))]
    public void HugeDeclaredSize_IsRejectedFromTheHeader(string what, byte[] data)
    {
        var e = Assert.Throws<ImageDecodeException>(() => Decoder.Decode(data));
        Assert.True(e.Reason is ImageDecodeFailure.TooManyPixels or ImageDecodeFailure.Corrupt, $"{what}: {e.Reason}: {e.Message}");
        if (what.StartsWith("png", StringComparison.Ordinal) || what.StartsWith("jpeg", StringComparison.Ordinal))
        {
            Assert.Equal(ImageDecodeFailure.TooManyPixels, e.Reason);
            Assert.Contains("40000000", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void UnlimitedPixels_StillRejectsImagesBeyondOneArray()
    {
        var unlimited = new ImageDecoder(new ImageDecoderOptions { MaxPixels = long.MaxValue });
        Fails(EncodedImageEdits.WithPngSize(Golden("p_tiny_5x4.png"), 100_000, 100_000), ImageDecodeFailure.TooManyPixels, unlimited);
    }

    [Fact]
    public void PixelLimit_AppliesToOrdinaryImages()
    {
        var limited = new ImageDecoder(new ImageDecoderOptions { MaxPixels = 640 * 427 - 1 });
        Fails(Golden("p_rocket.jpg"), ImageDecodeFailure.TooManyPixels, limited);
        Assert.Equal(640, new ImageDecoder(new ImageDecoderOptions { MaxPixels = 640 * 427 }).Decode(Golden("p_rocket.jpg")).Width);
    }

    [Theory]
    [InlineData(0u, 4u)]
    [InlineData(5u, 0u)]
    public void ZeroDimension_IsZeroSize(uint width, uint height)
    {
        var e = Fails(EncodedImageEdits.WithPngSize(Golden("p_tiny_5x4.png"), width, height), ImageDecodeFailure.ZeroSize);
        Assert.Contains($"{width}×{height}", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("images/p_chelsea.png")]
    [InlineData("images/p_rocket.jpg")]
    [InlineData("images/p_palette_trns.png")]
    [InlineData("imaging/gif_plain.gif")]
    [InlineData("imaging/webp_lossless_rgba.webp")]
    [InlineData("imaging/webp_lossy_rgb.webp")]
    [InlineData("imaging/bmp_rgb24.bmp")]
    [InlineData("imaging/jpeg_progressive.jpg")]
    [InlineData("imaging/png_gray16_adam7.png")]
    public void Truncated_IsTruncated(string file)
    {
        byte[] data = file.StartsWith("images/", StringComparison.Ordinal) ? Golden(file[7..]) : Fixture(file[8..]);
        foreach (double fraction in new[] { 0.5, 0.9 })
        {
            byte[] cut = data[..(int)(data.Length * fraction)];
            var e = Assert.Throws<ImageDecodeException>(() => Decoder.Decode(cut));
            Assert.True(e.Reason == ImageDecodeFailure.Truncated, $"{file} cut at {fraction:P0}: {e.Reason}: {e.Message}");
        }
    }

    [Theory]
    [InlineData("p_chelsea.png", 8)]
    [InlineData("p_chelsea.png", 12)]
    [InlineData("p_rocket.jpg", 2)]
    [InlineData("p_rocket.jpg", 3)]
    public void CutInsideTheHeader_IsTruncated(string file, int length)
    {
        Fails(Golden(file)[..length], ImageDecodeFailure.Truncated);
    }

    [Fact]
    public void DamagedPngData_IsCorrupt()
    {
        byte[] data = Golden("p_chelsea.png");
        // Overwrite bytes in the middle of the compressed stream: libpng's CRC / zlib checks fail.
        for (int i = data.Length / 2; i < data.Length / 2 + 16; i++)
        {
            data[i] ^= 0x5A;
        }
        Fails(data, ImageDecodeFailure.Corrupt);
    }

    [Fact]
    public void DamagedPngHeaderCrc_IsCorrupt()
    {
        byte[] data = Golden("p_tiny_5x4.png");
        data[29] ^= 0xFF;
        Fails(data, ImageDecodeFailure.Corrupt);
    }
}
