using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Prompting;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Diagnostics;

/// <summary>
/// The drift of one conversation between an fp32 and an int8 model of the same checkpoint: the logits at the first
/// generated position (the prompt's last token; in the HF layout it predicts the "\n\n" before the verdict, which the
/// greedy tokens and p(unsafe) then cover), the greedy tokens, and the verdict's p(unsafe).
/// </summary>
/// <param name="MaxAbsLogitError">max over the vocabulary of |z_int8 − z_fp32| at the first generated position.</param>
/// <param name="LogitSpread">The fp32 logits' standard deviation there (the scale the error compares with).</param>
/// <param name="TopTokenAgrees">Whether both pick the same first token.</param>
/// <param name="GreedyAgreeing">Leading greedy tokens that agree (up to the shorter output).</param>
/// <param name="GreedyCompared">Greedy tokens of the fp32 output.</param>
internal sealed record Int8DriftCase(string Name, int PromptTokens, double MaxAbsLogitError, double LogitSpread, bool TopTokenAgrees,
    int GreedyAgreeing, int GreedyCompared, double UnsafeProbabilityFp32, double UnsafeProbabilityInt8, bool VerdictAgrees)
{
    public double UnsafeProbabilityError => Math.Abs(UnsafeProbabilityInt8 - UnsafeProbabilityFp32);
}

/// <summary>
/// Measures <see cref="Int8DriftCase"/>s: both models run the same prompts (rendered with the default policy and layout)
/// and images; the greedy generation runs on the networks directly (for the logits), the verdicts through the public
/// <see cref="GuardModel.ClassifyAsync"/> (for p(unsafe)).
/// </summary>
internal static class Int8Drift
{
    public static async Task<IReadOnlyList<Int8DriftCase>> MeasureAsync(GuardModel fp32, GuardModel int8,
        IReadOnlyList<(string Name, Conversation Conversation)> cases, int maxNewTokens, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(fp32);
        ArgumentNullException.ThrowIfNull(int8);
        ArgumentNullException.ThrowIfNull(cases);
        var preprocessor = new ImagePreprocessor(ImagePreprocessorOptions.FromModelDirectory(fp32.ModelDirectory));
        var decoder = new ImageDecoder();
        var stops = VerdictTokens.ResolveStopTokens(fp32.Tokenizer, fp32.Model.StopTokenIds);
        var options = new GenerationOptions(maxNewTokens, stops);
        var results = new List<Int8DriftCase>();
        foreach (var (name, conversation) in cases)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int[] ids = PromptEncoder.Encode(PromptRenderer.RenderSegments(conversation, SafetyPolicy.Default), fp32.Tokenizer);
            IReadOnlyList<VisionInput> images = conversation.Image is { } image
                ? [VisionInput.FromPreprocessed(preprocessor.Process(decoder.Decode(image.EncodedBytes.Span)))]
                : [];
            var a = new Generator(fp32.Model).Generate(ids, images, options, cancellationToken);
            var b = new Generator(int8.Model).Generate(ids, images, options, cancellationToken);
            double maxError = 0, mean = a.FirstStepLogits.Average(z => (double)z), variance = 0;
            for (int i = 0; i < a.FirstStepLogits.Length; i++)
            {
                maxError = Math.Max(maxError, Math.Abs((double)b.FirstStepLogits[i] - a.FirstStepLogits[i]));
                variance += Math.Pow(a.FirstStepLogits[i] - mean, 2);
            }
            int agreeing = 0;
            while (agreeing < Math.Min(a.OutputIds.Count, b.OutputIds.Count) && a.OutputIds[agreeing] == b.OutputIds[agreeing])
            {
                agreeing++;
            }
            var va = await fp32.ClassifyAsync(conversation, null, cancellationToken);
            var vb = await int8.ClassifyAsync(conversation, null, cancellationToken);
            bool verdictAgrees = va.Kind == vb.Kind && va.ViolatedCategories.Select(c => c.Code).SequenceEqual(vb.ViolatedCategories.Select(c => c.Code));
            results.Add(new Int8DriftCase(name, ids.Length, maxError, Math.Sqrt(variance / a.FirstStepLogits.Length),
                a.OutputIds.Count > 0 && b.OutputIds.Count > 0 && a.OutputIds[0] == b.OutputIds[0],
                agreeing, a.OutputIds.Count, va.UnsafeProbability, vb.UnsafeProbability, verdictAgrees));
        }
        return results;
    }

    /// <summary>The drift table in Markdown (docs/int8.md's format).</summary>
    public static string ToMarkdown(IReadOnlyList<Int8DriftCase> cases)
    {
        ArgumentNullException.ThrowIfNull(cases);
        var text = new System.Text.StringBuilder();
        text.AppendLine("| case | prompt tokens | max \\|Δlogit\\| | logit σ | max \\|Δlogit\\| / σ | top-1 agrees | greedy agreeing | p(unsafe) fp32 | p(unsafe) int8 | \\|Δp\\| | verdict agrees |");
        text.AppendLine("|---|---:|---:|---:|---:|:-:|---:|---:|---:|---:|:-:|");
        foreach (var c in cases)
        {
            text.AppendLine(System.FormattableString.Invariant(
                $"| {c.Name} | {c.PromptTokens} | {c.MaxAbsLogitError:G3} | {c.LogitSpread:G3} | {c.MaxAbsLogitError / Math.Max(c.LogitSpread, 1e-30):G3} | {(c.TopTokenAgrees ? "yes" : "no")} | {c.GreedyAgreeing}/{c.GreedyCompared} | {c.UnsafeProbabilityFp32:G4} | {c.UnsafeProbabilityInt8:G4} | {c.UnsafeProbabilityError:G3} | {(c.VerdictAgrees ? "yes" : "no")} |"));
        }
        return text.ToString();
    }
}
