using System.Diagnostics;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LlamaGuardSharp.Tests.Imaging;

/// <summary>
/// Seeded fuzzing of the decoder with the golden and fixture images: random byte flips, truncations, insertions/deletions and
/// header edits. Whatever the damage, the decoder returns a consistent image or throws <see cref="ImageDecodeException"/> —
/// never another exception, a crash or a hang.
/// </summary>
public sealed class DecoderMutationTests(ITestOutputHelper output)
{
    private const int MutationsPerSource = 120;

    /// <summary>Sources: the golden images small enough to decode in about a millisecond, and one fixture per decoder path.</summary>
    private static IEnumerable<(string Name, byte[] Data)> Sources()
    {
        foreach (string path in Directory.GetFiles(TestData.Golden("images")).Order(StringComparer.Ordinal))
        {
            if (!path.EndsWith(".json", StringComparison.Ordinal) && new FileInfo(path).Length < 300_000)
            {
                yield return (Path.GetFileName(path), File.ReadAllBytes(path));
            }
        }
        string fixtures = Path.Combine(TestData.DataDir, "imaging");
        foreach (string name in new[]
                 {
                     "gif_animated.gif", "gif_transparent.gif", "bmp_rgb24.bmp", "bmp_p8.bmp", "webp_lossless_rgba.webp",
                     "webp_lossy_rgb.webp", "jpeg_progressive.jpg", "jpeg_cmyk.jpg", "png_gray16_adam7.png", "png_rgba16.png",
                     "png_p4_trns_partial.png",
                 })
        {
            yield return (name, File.ReadAllBytes(Path.Combine(fixtures, name)));
        }
    }

    [Fact]
    public void RandomMutations_NeverEscapeAsAnythingButImageDecodeException()
    {
        var decoder = new ImageDecoder(new ImageDecoderOptions { MaxPixels = 4_000_000 });
        var random = new Random(20261128);
        var reasons = new Dictionary<string, int>();
        int total = 0;
        var stopwatch = Stopwatch.StartNew();
        foreach ((string name, byte[] original) in Sources())
        {
            for (int m = 0; m < MutationsPerSource; m++)
            {
                (string kind, byte[] mutated) = Mutate(original, random);
                string outcome;
                var one = Stopwatch.StartNew();
                try
                {
                    RgbImage image = decoder.Decode(mutated);
                    Assert.True(image.Width > 0 && image.Height > 0 && (long)image.Width * image.Height <= decoder.Options.MaxPixels);
                    Assert.Equal((long)image.Width * image.Height * 3, image.Pixels.LongLength);
                    outcome = "decoded";
                }
                catch (ImageDecodeException e)
                {
                    Assert.False(string.IsNullOrWhiteSpace(e.Message));
                    outcome = e.Reason.ToString();
                }
                catch (Exception e)
                {
                    Assert.Fail($"{name} mutation {m} ({kind}) escaped as {e.GetType().Name}: {e.Message}");
                    throw;
                }
                Assert.True(one.ElapsedMilliseconds < 5_000, $"{name} mutation {m} ({kind}) took {one.ElapsedMilliseconds} ms");
                reasons[outcome] = reasons.GetValueOrDefault(outcome) + 1;
                total++;
            }
        }
        output.WriteLine($"{total} mutations in {stopwatch.ElapsedMilliseconds} ms: "
                         + string.Join(", ", reasons.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {r.Value}")));
        Assert.True(total >= 2_000);
        // The mix must exercise both outcomes, or the mutations are not doing their job.
        Assert.True(reasons.GetValueOrDefault("decoded") > 0 && reasons.GetValueOrDefault("Truncated") > 0 && reasons.GetValueOrDefault("Corrupt") > 0);
    }

    private static (string Kind, byte[] Data) Mutate(byte[] original, Random random)
    {
        byte[] data = (byte[])original.Clone();
        switch (random.Next(6))
        {
            case 0:
            {
                int flips = 1 + random.Next(8);
                for (int i = 0; i < flips; i++)
                {
                    data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8));
                }
                return ("bit flips", data);
            }
            case 1:
            {
                // Header region: the first 64 bytes hold the signature, dimensions and format fields.
                int edits = 1 + random.Next(4);
                for (int i = 0; i < edits; i++)
                {
                    data[random.Next(Math.Min(64, data.Length))] = (byte)random.Next(256);
                }
                return ("header bytes", data);
            }
            case 2:
                return ("truncation", data[..random.Next(data.Length)]);
            case 3:
            {
                int start = random.Next(data.Length);
                int length = Math.Min(1 + random.Next(64), data.Length - start);
                return ("deletion", [.. data[..start], .. data[(start + length)..]]);
            }
            case 4:
            {
                int at = random.Next(data.Length);
                var junk = new byte[1 + random.Next(64)];
                random.NextBytes(junk);
                return ("insertion", [.. data[..at], .. junk, .. data[at..]]);
            }
            default:
            {
                uint w = (uint)random.Next(0, 70_000);
                uint h = (uint)random.Next(0, 70_000);
                byte[] edited = original[0] switch
                {
                    0x89 => EncodedImageEdits.WithPngSize(original, w, h),
                    0xFF => EncodedImageEdits.WithJpegSize(original, (ushort)w, (ushort)h),
                    (byte)'G' => EncodedImageEdits.WithGifSize(original, (ushort)w, (ushort)h),
                    (byte)'B' => EncodedImageEdits.WithBmpSize(original, (int)w - 35_000, (int)h - 35_000),
                    _ => data,
                };
                return ("dimension edit", edited);
            }
        }
    }
}
