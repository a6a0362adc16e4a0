using System.Buffers.Binary;
using System.Diagnostics;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Tests.Infrastructure;
using SkiaSharp;

namespace LlamaGuardSharp.Tests.Hardening;

/// <summary>
/// Family 4 of issue 23: any image accepted by the limits (20 MiB encoded, 40 megapixels) decodes in under 2 s of CPU — also
/// one that spends its bytes on metadata the decoder must walk past (a 20 MB text or unknown chunk took libpng 27–49 s)
/// or on a million tiny chunks or segments.
/// </summary>
public sealed class DecodeTimeTests
{
    private const int Budget = 20 * 1024 * 1024 - 4096; // just under the default encoded-size limit
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(2);
    private static readonly byte[] SmallPng = TestPng.Encode(8, 8, 2, 8, Enumerable.Range(0, 192).Select(i => (ushort)i).ToArray());

    private static byte[] PngWith(params (string Type, byte[] Data)[] chunks) =>
        TestPng.Encode(8, 8, 2, 8, Enumerable.Range(0, 192).Select(i => (ushort)i).ToArray(), extraChunks: chunks);

    private static byte[] Filler(int length, byte value = (byte)'x') => Enumerable.Repeat(value, length).ToArray();

    public static TheoryData<string> Cases => new()
    {
        "png tEXt", "png zTXt", "png iTXt", "png iCCP", "png unknown ancillary", "png APNG chunks", "png many small ancillary", "png many tiny IDAT",
        "png after IEND", "jpeg many COM segments", "gif huge comment", "webp huge unknown chunk", "png 40 megapixels",
    };

    private static byte[] Make(string name)
    {
        switch (name)
        {
            case "png tEXt":
                return PngWith(("tEXt", [.. "Comment\0"u8, .. Filler(Budget - 400)]));
            case "png zTXt":
                return PngWith(("zTXt", [.. "Comment\0\0"u8, .. Filler(Budget - 400)]));
            case "png iTXt":
                return PngWith(("iTXt", [.. "Comment\0\0\0\0\0"u8, .. Filler(Budget - 400)]));
            case "png iCCP":
                return PngWith(("iCCP", [.. "icc\0\0"u8, .. Filler(Budget - 400)]));
            case "png unknown ancillary":
                return PngWith(("abCd", Filler(Budget - 400)));
            case "png APNG chunks":
            {
                // An animation header and ~300 frame-control + 64 KiB frame-data pairs (acTL, fcTL, fdAT) filling the budget.
                const int frameBytes = 64 * 1024;
                int frames = (Budget - 400) / (12 + 26 + 12 + 4 + frameBytes);
                var chunks = new List<(string, byte[])>();
                byte[] actl = new byte[8];
                BinaryPrimitives.WriteInt32BigEndian(actl, frames);
                chunks.Add(("acTL", actl));
                for (int i = 0; i < frames; i++)
                {
                    byte[] fctl = new byte[26];
                    BinaryPrimitives.WriteInt32BigEndian(fctl, 2 * i);
                    BinaryPrimitives.WriteInt32BigEndian(fctl.AsSpan(4), 8);
                    BinaryPrimitives.WriteInt32BigEndian(fctl.AsSpan(8), 8);
                    BinaryPrimitives.WriteUInt16BigEndian(fctl.AsSpan(20), 1);
                    BinaryPrimitives.WriteUInt16BigEndian(fctl.AsSpan(22), 10);
                    chunks.Add(("fcTL", fctl));
                    byte[] fdat = Filler(4 + frameBytes);
                    BinaryPrimitives.WriteInt32BigEndian(fdat, 2 * i + 1);
                    chunks.Add(("fdAT", fdat));
                }
                return PngWith([.. chunks]);
            }
            case "png many small ancillary":
                return PngWith(Enumerable.Repeat(("tEXt", "a\0b"u8.ToArray()), (Budget - 400) / 15).ToArray());
            case "png many tiny IDAT":
            {
                // Noise does not compress: ≈ 1.4 MB of zlib data in 1-byte IDAT chunks, 1.4 million chunks in all.
                var random = new Random(2);
                var samples = new ushort[1200 * 1200];
                for (int i = 0; i < samples.Length; i++)
                {
                    samples[i] = (ushort)random.Next(256);
                }
                return TestPng.Encode(1200, 1200, 0, 8, samples, idatChunkSize: 1);
            }
            case "png after IEND":
                return [.. SmallPng, .. Filler(Budget - SmallPng.Length)];
            case "jpeg many COM segments":
            {
                byte[] jpeg = File.ReadAllBytes(TestData.Golden("images", "p_rocket.jpg"));
                var output = new MemoryStream();
                output.Write(jpeg.AsSpan(0, 2)); // SOI
                byte[] segment = [0xFF, 0xFE, 0xFF, 0xFF, .. Filler(0xFFFF - 2)];
                while (output.Length + segment.Length + jpeg.Length < Budget)
                {
                    output.Write(segment);
                }
                output.Write(jpeg.AsSpan(2));
                return output.ToArray();
            }
            case "gif huge comment":
            {
                var gif = new MemoryStream();
                gif.Write("GIF89a"u8);
                gif.Write([1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255]); // 1×1, 2-colour global table
                gif.Write([0x21, 0xFE]); // comment extension
                byte[] block = [255, .. Filler(255)];
                while (gif.Length + block.Length < Budget - 64)
                {
                    gif.Write(block);
                }
                gif.Write([0]);
                gif.Write([0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x4C, 0x01, 0, 0x3B]); // image, LZW data, trailer
                return gif.ToArray();
            }
            case "webp huge unknown chunk":
            {
                using var bitmap = new SKBitmap(8, 8);
                bitmap.Erase(SKColors.CornflowerBlue);
                using var encoded = bitmap.Encode(SKEncodedImageFormat.Webp, 90);
                byte[] webp = encoded.ToArray();
                int extra = Budget - webp.Length - 8;
                extra -= extra % 2;
                var output = new MemoryStream();
                output.Write(webp.AsSpan(0, 12));
                output.Write("ABCD"u8);
                Span<byte> length = stackalloc byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(length, extra);
                output.Write(length);
                output.Write(Filler(extra));
                output.Write(webp.AsSpan(12));
                byte[] result = output.ToArray();
                BinaryPrimitives.WriteInt32LittleEndian(result.AsSpan(4), result.Length - 8);
                return result;
            }
            case "png 40 megapixels":
            {
                var samples = new ushort[8000 * 5000];
                for (int i = 0; i < samples.Length; i++)
                {
                    samples[i] = (ushort)(((i % 8000) + 3 * (i / 8000)) & 255);
                }
                return TestPng.Encode(8000, 5000, 0, 8, samples);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(name));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_image_within_the_limits_decodes_in_under_two_seconds(string name)
    {
        byte[] data = Make(name);
        Assert.True(data.Length <= new ImageDecoderOptions().MaxEncodedBytes, $"{name}: {data.Length} bytes");
        var decoder = new ImageDecoder();
        decoder.Decode(SmallPng); // JIT and codec set-up are not the input's cost
        Exception? e = null;
        // User CPU time of this thread, not wall time: the machine may be shared, and the defect was CPU-bound (quadratic parsing).
        TimeSpan cpu = ThreadCpuTime.Measure(() => e = Record.Exception(() => decoder.Decode(data)));
        Assert.True(e is null or ImageDecodeException, $"{name}: {e}");
        Assert.True(cpu < Limit, $"{name}: {cpu.TotalSeconds:F2} s of CPU");
    }

    [Fact]
    public async Task Through_the_cli_a_huge_text_chunk_costs_no_time()
    {
        string path = Path.Combine(Path.GetTempPath(), $"lgs-ztxt-{Guid.NewGuid():N}.png");
        try
        {
            await File.WriteAllBytesAsync(path, Make("png zTXt"));
            var stopwatch = Stopwatch.StartNew();
            var (code, _, error) = await CliRunner.RunAsync("preprocess", "--image", path, "--json");
            Assert.True(code == 0, error);
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(5), $"{stopwatch.Elapsed}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
