using System.CommandLine;
using System.Text.Json;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.IO;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard generate</c>: greedy generation from a raw prompt (special-token strings recognised, no BOS added) and
/// optional images, printing the prompt ids, the generated ids and the top logits of the last prompt position.
/// </summary>
public static class GenerateCommand
{
    private const int TopLogits = 16;

    /// <summary>Largest <c>--max-new-tokens</c> of <c>generate</c> (docs/limits.md).</summary>
    internal const int MaxNewTokensLimit = 1024;

    public static Command Create()
    {
        var model = new ModelSourceOptions(required: true);
        var promptFile = new Option<FileInfo>("--prompt-file") { Description = "Raw prompt text; special-token strings such as <|image|> are recognised; no BOS is added.", Required = true };
        var images = new Option<FileInfo[]>("--image") { Description = "An image for each <|image|> token, in order (repeatable).", AllowMultipleArgumentsPerToken = false };
        var tokenizer = new Option<FileInfo?>("--tokenizer") { Description = "tokenizer.json or tokenizer.model (default: found in the model folder)." };
        // Generation is for debugging and parity checks, so it may run longer than a verdict; the keys and values of
        // every generated token stay in memory, so it is bounded all the same.
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Maximum tokens to generate.", DefaultValueFactory = _ => GuardModelOptions.Default.MaxNewTokens }
            .InRange(1, MaxNewTokensLimit);
        var json = new Option<bool>("--json") { Description = "Print a JSON object (input_ids, output_ids, last_logits_top) instead of text." };
        var threads = new Option<int>("--threads") { Description = "Compute threads (0 = all cores).", DefaultValueFactory = _ => 0 }
            .InRange(0, GuardModelOptions.MaxThreads);
        var crossAttention = ConversationOptions.CreateCrossAttentionOption();

        var command = new Command("generate", "Greedy generation from a raw prompt with optional images (debugging and parity checks).");
        model.AddTo(command);
        foreach (Option option in new Option[] { promptFile, images, tokenizer, maxNewTokens, json, threads, crossAttention })
        {
            command.Options.Add(option);
        }
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            try
            {
                int max = parse.GetValue(maxNewTokens);
                // The small inputs first, so that a wrong one fails before the model folder is looked at.
                string prompt = await BoundedFile.ReadAllTextAsync(parse.GetValue(promptFile)!.FullName, BoundedFile.MaxTextBytes, "prompt file", cancellationToken);
                string modelDir = MllamaCheckpoint.ResolveModelDirectory((await model.ResolveAsync(parse, stderr, cancellationToken))!);
                var tok = Llama3Tokenizer.Load(parse.GetValue(tokenizer)?.FullName ?? modelDir);
                int[] ids = tok.Encode(prompt, recognizeSpecialTokens: true);

                var inputs = new List<VisionInput>();
                var imageFiles = parse.GetValue(images) ?? [];
                if (imageFiles.Length > 0)
                {
                    var decoder = new ImageDecoder();
                    var preprocessor = new ImagePreprocessor(ImagePreprocessorOptions.FromModelDirectory(modelDir));
                    foreach (var file in imageFiles)
                    {
                        var rgb = await decoder.DecodeFileAsync(file.FullName, cancellationToken);
                        inputs.Add(VisionInput.FromPreprocessed(preprocessor.Process(rgb)));
                    }
                }

                using var checkpoint = MllamaCheckpoint.Open(modelDir);
                var mllama = MllamaModel.Load(checkpoint, model.ApplyPrecision(parse, new GuardModelOptions
                {
                    Threads = parse.GetValue(threads),
                    CrossAttentionMasking = ConversationOptions.ParseCrossAttention(parse.GetValue(crossAttention)),
                }));
                var result = new Generator(mllama).Generate(ids, inputs,
                    new GenerationOptions(max, VerdictTokens.ResolveStopTokens(tok, mllama.StopTokenIds)), cancellationToken);
                stderr.WriteLine($"vision {result.Timings.Vision.TotalSeconds:F2} s, prefill {result.Timings.Prefill.TotalSeconds:F2} s ({ids.Length} tokens), " +
                    $"decode {result.Timings.Decode.TotalSeconds:F2} s ({result.OutputIds.Count} tokens), stop: {result.StopReason}");

                if (parse.GetValue(json))
                {
                    stdout.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                    {
                        ["input_ids"] = ids,
                        ["output_ids"] = result.OutputIds,
                        ["last_logits_top"] = TopK(result.FirstStepLogits, TopLogits).Select(p => new object[] { p.Id, p.Logit }).ToArray(),
                    }));
                }
                else
                {
                    stdout.WriteLine(tok.Decode(result.OutputIds.ToArray()));
                }
                return 0;
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(stderr, e);
            }
        });
        return command;
    }

    /// <summary>The <paramref name="k"/> largest logits, descending (ties: lower id first).</summary>
    internal static (int Id, float Logit)[] TopK(float[] logits, int k) =>
        Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(k).Select(i => (i, logits[i])).ToArray();
}
