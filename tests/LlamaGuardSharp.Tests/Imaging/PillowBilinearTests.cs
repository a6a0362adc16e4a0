using System.Text.Json;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Imaging;

/// <summary>The resampler against Pillow 9.4 BILINEAR on awkward sizes (fixtures from generate_fixtures.py), plus its invariants.</summary>
public sealed class PillowBilinearTests
{
    private static string Dir => Path.Combine(TestData.DataDir, "imaging");

    public static TheoryData<int, int, string> Resizes()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Dir, "fixtures.json")));
        var data = new TheoryData<int, int, string>();
        foreach (JsonElement r in doc.RootElement.GetProperty("resizes").EnumerateArray())
        {
            data.Add(r.GetProperty("size_wh")[0].GetInt32(), r.GetProperty("size_wh")[1].GetInt32(), r.GetProperty("file").GetString()!);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Resizes))]
    public async Task Resize_EqualsPillowByteForByte(int width, int height, string file)
    {
        var decoder = new ImageDecoder();
        RgbImage source = await decoder.DecodeFileAsync(Path.Combine(Dir, "resize_source.png"));
        RgbImage expected = await decoder.DecodeFileAsync(Path.Combine(Dir, file));
        byte[] actual = PillowBilinear.ResizeRgb(source.Pixels, source.Width, source.Height, width, height);
        Assert.Equal(expected.Pixels, actual);
    }

    [Fact]
    public void Weights_SumToOneInFixedPoint()
    {
        foreach ((int input, int output) in new[] { (2000, 1120), (64, 560), (5, 560), (1600, 3), (97, 96), (7, 7) })
        {
            PillowBilinear.AxisWeights w = PillowBilinear.Precompute(input, output);
            for (int i = 0; i < output; i++)
            {
                long sum = 0;
                for (int t = 0; t < w.Count[i]; t++)
                {
                    sum += w.Weights[i * w.KernelSize + t];
                }
                // Each weight is rounded separately, so the sum is 2^22 up to half a unit per tap.
                Assert.InRange(sum, (1 << 22) - w.KernelSize, (1 << 22) + w.KernelSize);
                Assert.InRange(w.First[i], 0, input - 1);
                Assert.InRange(w.First[i] + w.Count[i], 1, input);
            }
        }
    }

    [Fact]
    public void ConstantImage_StaysConstant()
    {
        var pixels = new byte[31 * 17 * 3];
        Array.Fill(pixels, (byte)201);
        Assert.All(PillowBilinear.ResizeRgb(pixels, 31, 17, 200, 3), v => Assert.Equal(201, v));
        Assert.All(PillowBilinear.ResizeRgb(pixels, 31, 17, 2, 90), v => Assert.Equal(201, v));
    }

    [Fact]
    public void SameSize_ReturnsInput()
    {
        var pixels = new byte[4 * 3 * 3];
        Assert.Same(pixels, PillowBilinear.ResizeRgb(pixels, 4, 3, 4, 3));
    }
}
