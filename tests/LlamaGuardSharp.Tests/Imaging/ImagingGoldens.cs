using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Imaging;

/// <summary>Access to the preprocessing goldens (tests/data/golden/preprocess) and small helpers shared by the imaging tests.</summary>
internal static class ImagingGoldens
{
    private static readonly Lazy<JsonDocument> PreprocessDoc =
        new(() => JsonDocument.Parse(File.ReadAllBytes(TestData.Golden("preprocess", "preprocess_goldens.json"))));

    public static JsonElement Preprocess => PreprocessDoc.Value.RootElement;

    /// <summary>Golden image names (e.g. "images/p_rocket.jpg") for xunit theories.</summary>
    public static TheoryData<string> ImageNames(string extension = "")
    {
        var data = new TheoryData<string>();
        foreach (JsonElement image in Preprocess.GetProperty("images").EnumerateArray())
        {
            string name = image.GetProperty("image").GetString()!;
            if (name.EndsWith(extension, StringComparison.Ordinal))
            {
                data.Add(name);
            }
        }
        return data;
    }

    public static JsonElement Entry(string imageName) =>
        Preprocess.GetProperty("images").EnumerateArray().Single(e => e.GetProperty("image").GetString() == imageName);

    /// <summary>A path relative to the golden folder, as the JSON files write them.</summary>
    public static string GoldenPath(string relative) => TestData.Golden(relative.Split('/'));

    public static RgbImage DecodePng(string relative) => new ImageDecoder().Decode(File.ReadAllBytes(GoldenPath(relative)));

    public static string Sha256F32(ReadOnlySpan<float> values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The goldens hash little-endian float32 bytes.");
        }
        return Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(values)));
    }

    public static int[] IntArray(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetInt32())];

    /// <summary>Reads one float32 tensor from a safetensors file (8-byte little-endian header length, JSON header, raw data).</summary>
    public static float[] ReadSafeTensorF32(string path, string name, out long[] shape)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using JsonDocument header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        JsonElement entry = header.RootElement.GetProperty(name);
        Assert.Equal("F32", entry.GetProperty("dtype").GetString());
        shape = [.. entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64())];
        long start = entry.GetProperty("data_offsets")[0].GetInt64();
        long end = entry.GetProperty("data_offsets")[1].GetInt64();
        ReadOnlySpan<byte> data = bytes.AsSpan((int)(8 + headerLength + start), (int)(end - start));
        return MemoryMarshal.Cast<byte, float>(data).ToArray();
    }

    /// <summary>Reads one int64 tensor from a safetensors file.</summary>
    public static long[] ReadSafeTensorI64(string path, string name)
    {
        byte[] bytes = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        using JsonDocument header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        JsonElement entry = header.RootElement.GetProperty(name);
        Assert.Equal("I64", entry.GetProperty("dtype").GetString());
        long start = entry.GetProperty("data_offsets")[0].GetInt64();
        long end = entry.GetProperty("data_offsets")[1].GetInt64();
        var values = new long[(end - start) / 8];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)(8 + headerLength + start + 8 * i)));
        }
        return values;
    }
}
