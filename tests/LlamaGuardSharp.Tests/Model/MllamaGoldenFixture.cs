using System.Collections.Concurrent;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Model;

/// <summary>Everything the golden tests compare for one case, computed once.</summary>
internal sealed record GoldenCaseRun(
    int[] InputIds,
    IReadOnlyList<VisionInput> Images,
    CrossAttentionMask? Mask,
    IReadOnlyList<VisionTrace> VisionTraces,
    IReadOnlyList<float[]> VisionOutputs,
    float[]? CrossAttentionStates,
    TextTrace Trace,
    float[] LogitsLast,
    float[] TopIdLogits,
    float[] MaxOtherLogit,
    int[] CachedGreedyIds,
    float[][] CachedStepLogits,
    float[][] RecomputedStepLogits,
    GenerationResult GeneratorResult);

/// <summary>
/// Loads each tiny model once and runs each golden case once (vision with traces, a no-cache forward with logits at
/// every position, greedy decoding with the KV cache and its no-cache recomputation), shared by all golden tests.
/// </summary>
public sealed class MllamaGoldenFixture : IDisposable
{
    public const int GreedySteps = 8;

    private readonly ConcurrentDictionary<string, Lazy<(MllamaCheckpoint Checkpoint, MllamaModel Model)>> _models = new();
    private readonly ConcurrentDictionary<(string, string), Lazy<GoldenCaseRun>> _runs = new();

    public GoldenTolerance Tolerance { get; } = new();

    internal MllamaModel Model(string model) =>
        _models.GetOrAdd(model, m => new Lazy<(MllamaCheckpoint, MllamaModel)>(() =>
        {
            var checkpoint = MllamaCheckpoint.Open(TestData.Golden("models", m));
            // minPooledLength 1: the tiny models' activation arrays go through the pool too (real-size ones do from 1 MiB),
            // and every golden case after the first reuses arrays of the one before.
            return (checkpoint, MllamaModel.Load(checkpoint, GuardModelOptions.Default, minPooledLength: 1));
        })).Value.Model;

    internal GoldenCaseRun Run(string model, string caseName) =>
        _runs.GetOrAdd((model, caseName), key => new Lazy<GoldenCaseRun>(() => Compute(key.Item1, key.Item2))).Value;

    /// <summary>The images of a case as model inputs: stored pixel values (56 cfg) or recomputed ones (560 cfg).</summary>
    internal static IReadOnlyList<VisionInput> LoadImages(GoldenCase golden)
    {
        if (!golden.Has("aspect_ratio_ids"))
        {
            return [];
        }
        var ratioIds = golden.Int64("aspect_ratio_ids");
        var ratioMask = golden.Int64("aspect_ratio_mask");
        var numTiles = golden.NumTiles;
        int images = ratioIds.Length, tiles = ratioMask.Length / images;
        var pixels = golden.Has("pixel_values") ? golden.Singles("pixel_values") : RecomputePixels(golden);
        int perImage = pixels.Length / images;
        return Enumerable.Range(0, images).Select(i => new VisionInput(
            pixels.AsSpan(i * perImage, perImage).ToArray(),
            checked((int)ratioIds[i]),
            ratioMask.AsSpan(i * tiles, tiles).ToArray().Select(v => v != 0).ToArray(),
            numTiles[i])).ToArray();
    }

    /// <summary>
    /// The 560 cfg does not store its 15 MB pixel tensors: decode and preprocess the case images, checking every tile
    /// against the golden tile hashes.
    /// </summary>
    private static float[] RecomputePixels(GoldenCase golden)
    {
        var preprocessor = new ImagePreprocessor(ImagePreprocessorOptions.FromModelDirectory(TestData.Golden("models", golden.Model)));
        var decoder = new ImageDecoder();
        var hashes = golden.Json.RootElement.GetProperty("pixel_values_tile_sha256_f32le");
        var result = new List<float>();
        string[] paths = golden.Images;
        for (int i = 0; i < paths.Length; i++)
        {
            var image = preprocessor.Process(decoder.Decode(File.ReadAllBytes(TestData.Golden(paths[i]))));
            var tileHashes = hashes[i].EnumerateArray().Select(e => e.GetString()).ToArray();
            Assert.Equal(tileHashes.Length, image.MaxTiles);
            for (int t = 0; t < image.MaxTiles; t++)
            {
                string hash = Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(image.Tile(t).Span)));
                Assert.True(tileHashes[t] == hash, $"{golden.Model}/{golden.Name} image {i} tile {t}: pixel hash {hash}, golden {tileHashes[t]}");
            }
            result.AddRange(image.PixelValues);
        }
        return result.ToArray();
    }

    private GoldenCaseRun Compute(string modelName, string caseName)
    {
        var model = Model(modelName);
        using var golden = GoldenCase.Open(modelName, caseName);
        int[] ids = golden.InputIds;
        var images = LoadImages(golden);

        var traces = new List<VisionTrace>();
        var outputs = new List<float[]>();
        float[]? states = null;
        CrossAttentionMask? mask = null;
        if (images.Count > 0)
        {
            mask = model.BuildCrossAttentionMask(ids, images);
            int perImage = model.Config.Vision.MaxNumTiles * model.Config.Vision.TokensPerTile * model.Config.Text.HiddenSize;
            states = new float[images.Count * perImage];
            for (int i = 0; i < images.Count; i++)
            {
                var trace = new VisionTrace();
                var features = model.Vision.Encode(images[i], default, trace);
                traces.Add(trace);
                outputs.Add(features);
                model.Projector.Project(features).CopyTo(states.AsSpan(i * perImage));
            }
        }
        CrossAttentionMemory? memory = states is null ? null : model.BuildCrossAttentionMemory(states, images.Count);

        // No-cache forward over the prompt with logits everywhere.
        var textTrace = new TextTrace();
        int vocab = model.Text.VocabSize;
        var all = model.Text.Forward(DecoderBatch.Sequence(ids, 0, Enumerable.Range(0, ids.Length).ToArray(), memory, mask),
            model.Text.CreateCache(ids.Length), textTrace);
        var topIds = golden.Int64("logits_top16_ids");
        int k = topIds.Length / ids.Length;
        var topIdLogits = new float[topIds.Length];
        var maxOther = new float[ids.Length];
        for (int r = 0; r < ids.Length; r++)
        {
            var row = all.AsSpan(r * vocab, vocab).ToArray();
            for (int j = 0; j < k; j++)
            {
                int id = (int)topIds[r * k + j];
                topIdLogits[r * k + j] = row[id];
                row[id] = float.NegativeInfinity;
            }
            maxOther[r] = TensorPrimitives.Max(row);
        }
        var logitsLast = all.AsSpan((ids.Length - 1) * vocab, vocab).ToArray();

        // Greedy decoding with the KV cache (session API), then the same sequence recomputed without a cache.
        var session = new GenerationSession(model, ids.Length + GreedySteps);
        var stepLogits = new float[GreedySteps][];
        var greedy = new int[GreedySteps];
        stepLogits[0] = session.Prefill(ids, images);
        for (int s = 0; s < GreedySteps; s++)
        {
            greedy[s] = TensorPrimitives.IndexOfMax(stepLogits[s]);
            if (s + 1 < GreedySteps)
            {
                stepLogits[s + 1] = session.Step(greedy[s]);
            }
        }
        int[] full = [.. ids, .. greedy[..^1]];
        var recomputedRows = Enumerable.Range(ids.Length - 1, GreedySteps).ToArray();
        var fullMask = mask?.Extend(GreedySteps - 1);
        var recomputed = model.Text.Forward(DecoderBatch.Sequence(full, 0, recomputedRows, memory, fullMask), model.Text.CreateCache(full.Length));
        var recomputedSteps = Enumerable.Range(0, GreedySteps).Select(s => recomputed.AsSpan(s * vocab, vocab).ToArray()).ToArray();

        var generated = new Generator(model).Generate(ids, images, new GenerationOptions(GreedySteps, StopTokenIds: []));
        return new GoldenCaseRun(ids, images, mask, traces, outputs, states, textTrace, logitsLast, topIdLogits, maxOther,
            greedy, stepLogits, recomputedSteps, generated);
    }

    public void Dispose()
    {
        foreach (var entry in _models.Values)
        {
            if (entry.IsValueCreated)
            {
                entry.Value.Checkpoint.Dispose();
            }
        }
    }
}
