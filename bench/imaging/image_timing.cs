#:project ../../src/LlamaGuardSharp/LlamaGuardSharp.csproj
#:property TieredPGO=true
// Stopwatch timing of LlamaGuardSharp's image pipeline, stage by stage (medians).
// Usage: dotnet run bench/imaging/image_timing.cs -- [--reps N] IMAGE...
// Prints one JSON line per image: {"image":..., "decode_ms":..., "resize_ms":..., "normalize_ms":..., "resize_normalize_ms":...}.
using System.Diagnostics;
using System.Globalization;
using LlamaGuardSharp.Imaging;

int reps = 15;
var images = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--reps")
    {
        reps = int.Parse(args[++i], CultureInfo.InvariantCulture);
    }
    else
    {
        images.Add(args[i]);
    }
}

var decoder = new ImageDecoder();
var preprocessor = new ImagePreprocessor();
foreach (string path in images)
{
    byte[] encoded = File.ReadAllBytes(path);
    var decode = new List<double>();
    var resize = new List<double>();
    var normalize = new List<double>();
    var both = new List<double>();
    // Two untimed warm-up rounds let the JIT reach its optimised tier.
    for (int r = -2; r < reps; r++)
    {
        long t0 = Stopwatch.GetTimestamp();
        RgbImage image = decoder.Decode(encoded);
        long t1 = Stopwatch.GetTimestamp();
        PreprocessingPlan plan = preprocessor.Plan(image.Width, image.Height);
        RgbImage resized = ImagePreprocessor.Resize(image, plan);
        long t2 = Stopwatch.GetTimestamp();
        PreprocessedImage result = preprocessor.Normalise(resized, plan);
        long t3 = Stopwatch.GetTimestamp();
        GC.KeepAlive(result);
        if (r >= 0)
        {
            decode.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
            resize.Add(Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds);
            normalize.Add(Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds);
            both.Add(Stopwatch.GetElapsedTime(t1, t3).TotalMilliseconds);
        }
    }
    RgbImage decoded = decoder.Decode(encoded);
    PreprocessingPlan p = preprocessor.Plan(decoded.Width, decoded.Height);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"image\":\"{Path.GetFileName(path)}\",\"size\":[{decoded.Width},{decoded.Height}],\"resized\":[{p.ResizedWidth},{p.ResizedHeight}],\"reps\":{reps},\"decode_ms\":{Median(decode):F2},\"resize_ms\":{Median(resize):F2},\"normalize_ms\":{Median(normalize):F2},\"resize_normalize_ms\":{Median(both):F2}}}"));
}

static double Median(List<double> values)
{
    values.Sort();
    int n = values.Count;
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}
