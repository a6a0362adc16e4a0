using System.CommandLine;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Imaging;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard preprocess --image FILE [--model DIR | --tile-size N --max-tiles N] [--out FILE.safetensors] [--json]</c>:
/// runs the Mllama image preprocessing and prints the geometry and SHA-256 hashes of the float32 little-endian pixel values
/// (all tiles, empty ones included — the goldens' definition); <c>--out</c> writes the model inputs as safetensors.
/// </summary>
public static class PreprocessCommand
{
    public static Command Create()
    {
        var imageOption = new Option<string>("--image")
        {
            Description = "Image file (JPEG, PNG, WebP, GIF or BMP).",
            Required = true,
        };
        var modelOption = new Option<string?>("--model")
        {
            Description = "Model directory (or a Hub repository id in the Hugging Face cache): tile size and tile limit from preprocessor_config.json, else config.json.",
            HelpName = "DIR|REPO_ID",
        };
        var tileSizeOption = new Option<int?>("--tile-size")
        {
            Description = "Tile side in pixels (default 560; not with --model).",
        }.InRange(1, ImagePreprocessorOptions.LargestTileSize);
        var maxTilesOption = new Option<int?>("--max-tiles")
        {
            Description = "Maximum number of tiles (default 4; not with --model).",
        }.InRange(1, ImagePreprocessorOptions.LargestMaxTiles);
        var outOption = new Option<string?>("--out")
        {
            Description = "Write pixel_values [1,1,T,3,S,S] f32, aspect_ratio_ids [1,1] i64 and aspect_ratio_mask [1,1,T] i64 to this safetensors file.",
        };
        var jsonOption = new Option<bool>("--json")
        {
            Description = "Print one JSON object on stdout instead of text.",
        };
        var exifOption = new Option<bool>("--apply-exif-orientation")
        {
            Description = "Rotate by the EXIF Orientation tag (the reference does not; a deliberate deviation).",
        };
        var command = new Command("preprocess", "Run the Llama Guard 3 Vision image preprocessing and report tiles and hashes.")
        {
            imageOption,
            modelOption,
            tileSizeOption,
            maxTilesOption,
            outOption,
            jsonOption,
            exifOption,
        };
        command.SetAction(async (parseResult, ct) =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            TextWriter error = parseResult.InvocationConfiguration.Error;
            string? model = parseResult.GetValue(modelOption);
            int? tileSize = parseResult.GetValue(tileSizeOption);
            int? maxTiles = parseResult.GetValue(maxTilesOption);
            if (model is not null && (tileSize is not null || maxTiles is not null))
            {
                return CliErrors.Report(error, "use either --model or --tile-size/--max-tiles, not both.");
            }
            try
            {
                ImagePreprocessorOptions options = model is not null
                    ? ImagePreprocessorOptions.FromModelDirectory(Hub.ModelLocator.Resolve(model))
                    : new ImagePreprocessorOptions(tileSize ?? 560, maxTiles ?? 4);
                var decoder = new ImageDecoder(new ImageDecoderOptions { ApplyExifOrientation = parseResult.GetValue(exifOption) });
                RgbImage image = await decoder.DecodeFileAsync(parseResult.GetValue(imageOption)!, ct).ConfigureAwait(false);
                PreprocessedImage result = new ImagePreprocessor(options).Process(image);

                string? outPath = parseResult.GetValue(outOption);
                if (outPath is not null)
                {
                    WriteSafeTensors(outPath, result);
                    error.WriteLine($"wrote {outPath}");
                }
                if (parseResult.GetValue(jsonOption))
                {
                    output.WriteLine(FormatJson(image, result));
                }
                else
                {
                    WriteText(output, image, result);
                }
                return 0;
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(error, e);
            }
        });
        return command;
    }

    private static string Sha256(ReadOnlySpan<float> values)
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("Hashes are defined over little-endian float32 bytes.");
        }
        return Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(values)));
    }

    private static string FormatJson(RgbImage image, PreprocessedImage result)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            WritePair(json, "canvas", result.CanvasHeight, result.CanvasWidth);
            WritePair(json, "resized", result.ResizedHeight, result.ResizedWidth);
            WritePair(json, "tiles", result.TilesHigh, result.TilesWide);
            json.WriteNumber("aspect_ratio_id", result.AspectRatioId);
            json.WriteStartArray("aspect_ratio_mask");
            foreach (int m in result.AspectRatioMask)
            {
                json.WriteNumberValue(m);
            }
            json.WriteEndArray();
            json.WriteNumber("num_tiles", result.NumTiles);
            WritePair(json, "image", image.Height, image.Width);
            json.WriteString("pixel_values_sha256", Sha256(result.PixelValues));
            json.WriteStartArray("tile_sha256");
            for (int t = 0; t < result.MaxTiles; t++)
            {
                json.WriteStringValue(Sha256(result.Tile(t).Span));
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WritePair(Utf8JsonWriter json, string name, int first, int second)
    {
        json.WriteStartArray(name);
        json.WriteNumberValue(first);
        json.WriteNumberValue(second);
        json.WriteEndArray();
    }

    private static void WriteText(TextWriter output, RgbImage image, PreprocessedImage result)
    {
        output.WriteLine($"image:           {image.Width}×{image.Height} (w×h)");
        output.WriteLine($"tiles:           {result.TilesHigh}×{result.TilesWide} (rows×cols), {result.NumTiles} of {result.MaxTiles}, aspect_ratio_id {result.AspectRatioId}");
        output.WriteLine($"canvas:          {result.CanvasWidth}×{result.CanvasHeight} (w×h)");
        output.WriteLine($"resized:         {result.ResizedWidth}×{result.ResizedHeight} (w×h)");
        output.WriteLine($"mask:            [{string.Join(", ", result.AspectRatioMask)}]");
        output.WriteLine($"pixel_values:    sha256 {Sha256(result.PixelValues)}");
        for (int t = 0; t < result.MaxTiles; t++)
        {
            output.WriteLine($"  tile {t}:        sha256 {Sha256(result.Tile(t).Span)}");
        }
    }

    private static void WriteSafeTensors(string path, PreprocessedImage result)
    {
        int t = result.MaxTiles;
        long s = result.TileSize;
        byte[] ids = new byte[8];
        BitConverter.TryWriteBytes(ids, (long)result.AspectRatioId);
        long[] mask = [.. result.AspectRatioMask.Select(m => (long)m)];
        byte[] maskBytes = MemoryMarshal.AsBytes(mask.AsSpan()).ToArray();
        byte[] pixels = MemoryMarshal.AsBytes(result.PixelValues.AsSpan()).ToArray();
        SafeTensorsWriter.Write(path,
        [
            (new TensorSpec("pixel_values", SafeTensorDType.F32, [1, 1, t, 3, s, s]), pixels),
            (new TensorSpec("aspect_ratio_ids", SafeTensorDType.I64, [1, 1]), ids),
            (new TensorSpec("aspect_ratio_mask", SafeTensorDType.I64, [1, 1, t]), maskBytes),
        ], new Dictionary<string, string> { ["format"] = "pt" });
    }
}
