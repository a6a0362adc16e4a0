using System.Text.Json;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace LlamaGuardSharp.Tests.Imaging;

/// <summary>
/// Every format/colour-type fixture in tests/data/imaging (made by generate_fixtures.py with Pillow 9.4) decodes to exactly the
/// RGB the reference pipeline sees (Pillow open + transformers' convert_to_rgb), stored beside it as *.expected.png —
/// including lossy WebP and Adobe CMYK JPEG, whose decoders (libwebp, libjpeg-turbo) agree bit for bit.
/// </summary>
public sealed class DecoderPillowParityTests(ITestOutputHelper output)
{
    public static TheoryData<string> Fixtures()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(TestData.DataDir, "imaging", "fixtures.json")));
        var data = new TheoryData<string>();
        foreach (JsonProperty fixture in doc.RootElement.GetProperty("fixtures").EnumerateObject())
        {
            data.Add(fixture.Name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public async Task Fixture_DecodesLikePillow(string name)
    {
        var decoder = new ImageDecoder();
        string dir = Path.Combine(TestData.DataDir, "imaging");
        RgbImage ours = await decoder.DecodeFileAsync(Path.Combine(dir, name));
        RgbImage expected = await decoder.DecodeFileAsync(Path.Combine(dir, Path.GetFileNameWithoutExtension(name) + ".expected.png"));
        Assert.Equal(expected.Width, ours.Width);
        Assert.Equal(expected.Height, ours.Height);
        int max = 0;
        int differing = 0;
        for (int i = 0; i < ours.Pixels.Length; i++)
        {
            int d = Math.Abs(ours.Pixels[i] - expected.Pixels[i]);
            max = Math.Max(max, d);
            differing += d != 0 ? 1 : 0;
        }
        output.WriteLine($"{name}: max |diff| {max}, {differing} of {ours.Pixels.Length} samples differ");
        Assert.True(max == 0, $"{name}: {differing} samples differ from Pillow, by up to {max}.");
    }
}
