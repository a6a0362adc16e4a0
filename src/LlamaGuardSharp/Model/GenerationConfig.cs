using System.Text.Json;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Model;

/// <summary>The part of a model folder's optional <c>generation_config.json</c> that greedy decoding uses.</summary>
internal static class GenerationConfig
{
    public const string FileName = "generation_config.json";

    /// <summary>
    /// The <c>eos_token_id</c> entry (a number or a list) of <c>generation_config.json</c> in <paramref name="directory"/>;
    /// null when the file or the entry is absent.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The file exists but is not valid JSON or the entry is not integers.</exception>
    public static IReadOnlyList<int>? ReadEosTokenIds(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(BoundedFile.ReadAllBytes(path, BoundedFile.MaxConfigBytes, "generation config"));
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("eos_token_id", out var eos))
            {
                return null;
            }
            return eos.ValueKind switch
            {
                JsonValueKind.Number => [eos.GetInt32()],
                JsonValueKind.Array => eos.EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                JsonValueKind.Null => null,
                _ => throw new CheckpointFormatException(path, null, "eos_token_id is neither an integer nor a list of integers"),
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new CheckpointFormatException(path, null, $"not a valid generation config ({e.Message})", e);
        }
        catch (IOException e)
        {
            throw new CheckpointFormatException(path, null, $"cannot be read ({e.Message})", e);
        }
    }
}
