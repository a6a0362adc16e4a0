using System.Diagnostics;
using System.Numerics.Tensors;
using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// Greedy generation (argmax at every step, as the reference generates with do_sample=False) over a shared <see cref="MllamaModel"/>. Thread-safe: every call
/// uses its own <see cref="GenerationSession"/>.
/// </summary>
internal sealed class Generator(MllamaModel model)
{
    public MllamaModel Model { get; } = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>
    /// Encodes the images (after checking the prompt's image tokens against them), prefills <paramref name="inputIds"/>
    /// and decodes greedily until a stop token or <see cref="GenerationOptions.MaxNewTokens"/>.
    /// </summary>
    public GenerationResult Generate(IReadOnlyList<int> inputIds, IReadOnlyList<VisionInput>? images, GenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        EncodedImages? encoded = null;
        if (images is { Count: > 0 })
        {
            Model.BuildCrossAttentionMask(inputIds.ToArray(), images); // validate the prompt before the expensive vision work
            encoded = Model.EncodeImages(images, cancellationToken);
        }
        try
        {
            return GenerateWithEncodedImages(inputIds, encoded, options, cancellationToken);
        }
        finally
        {
            encoded?.Release(); // this call owns the encoding: its memory goes back to the model's pool
        }
    }

    /// <summary>As <c>Generate</c>, with images encoded beforehand.</summary>
    public GenerationResult GenerateWithEncodedImages(IReadOnlyList<int> inputIds, EncodedImages? images, GenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        options = Validate(options);
        using var session = new GenerationSession(Model, inputIds.Count + options.MaxNewTokens);
        var firstLogits = session.Prefill(inputIds.ToArray(), images, cancellationToken: cancellationToken)[0];
        return Decode(session, firstLogits, options, cancellationToken);
    }

    private static GenerationOptions Validate(GenerationOptions? options)
    {
        options ??= GenerationOptions.Default;
        if (options.MaxNewTokens < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "MaxNewTokens must be at least 1.");
        }
        return options;
    }

    /// <summary>The greedy loop after prefill: argmax, stop check, step.</summary>
    private GenerationResult Decode(GenerationSession session, float[] firstLogits, GenerationOptions options, CancellationToken cancellationToken)
    {
        var stops = options.StopTokenIds ?? Model.StopTokenIds;
        var watch = Stopwatch.StartNew();
        var output = new List<int>();
        var logits = firstLogits;
        var reason = StopReason.MaxNewTokens;
        while (true)
        {
            int next = TensorPrimitives.IndexOfMax(logits);
            output.Add(next);
            if (stops.Contains(next))
            {
                reason = StopReason.StopToken;
                break;
            }
            if (output.Count == options.MaxNewTokens)
            {
                break;
            }
            cancellationToken.ThrowIfCancellationRequested();
            logits = session.Step(next, cancellationToken);
        }
        return new GenerationResult(output, reason, firstLogits, new GenerationTimings(session.VisionTime, session.PrefillTime, watch.Elapsed));
    }

    /// <summary>
    /// Debug/verification path: one no-cache forward over <paramref name="inputIds"/> returning the logits of every
    /// position, [inputIds.Count, vocab], and the hidden states when <paramref name="trace"/> is given.
    /// </summary>
    public float[] ForwardAllPositions(IReadOnlyList<int> inputIds, IReadOnlyList<VisionInput>? images, TextTrace? trace = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        int[] ids = inputIds.ToArray();
        EncodedImages? encoded = null;
        CrossAttentionMask? mask = null;
        if (images is { Count: > 0 })
        {
            mask = Model.BuildCrossAttentionMask(ids, images);
            encoded = Model.EncodeImages(images, cancellationToken);
        }
        try
        {
            var batch = DecoderBatch.Sequence(ids, 0, Enumerable.Range(0, ids.Length).ToArray(), encoded?.Memory, mask);
            return Model.Text.Forward(batch, Model.Text.CreateCache(ids.Length), trace, cancellationToken);
        }
        finally
        {
            encoded?.Release();
        }
    }
}
