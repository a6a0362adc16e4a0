using System.Text.Json.Nodes;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Tests.Tokenization;

/// <summary>
/// Minimal tokenizer files (256 single bytes + "ab" + "abc") for tests of loading and error paths, so they do not have to
/// parse the 8 MB golden tokenizer.json each time.
/// </summary>
public static class TinyTokenizerFiles
{
    /// <summary>Ids: byte b → b, "ab" → 256, "abc" → 257; specials from 258: &lt;|begin_of_text|&gt;, &lt;|eot_id|&gt;.</summary>
    public static JsonObject TokenizerJson()
    {
        int[] charToByte = ByteLevelAlphabet.CreateCharToByte();
        var byteToChar = new char[256];
        for (int ch = 0; ch < charToByte.Length; ch++)
        {
            if (charToByte[ch] >= 0)
            {
                byteToChar[charToByte[ch]] = (char)ch;
            }
        }
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++)
        {
            vocab[byteToChar[b].ToString()] = b;
        }
        vocab["ab"] = 256;
        vocab["abc"] = 257;
        return new JsonObject
        {
            ["added_tokens"] = new JsonArray(
                new JsonObject { ["id"] = 258, ["content"] = "<|begin_of_text|>", ["special"] = true },
                new JsonObject { ["id"] = 259, ["content"] = "<|eot_id|>", ["special"] = true }),
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Llama3PreTokenizer.Pattern } },
                    new JsonObject { ["type"] = "ByteLevel", ["use_regex"] = false }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(new JsonArray("a", "b"), "ab c"),
            },
        };
    }

    public static string WriteTokenizerJson(string directory, JsonObject? json = null)
    {
        string path = Path.Combine(directory, "tokenizer.json");
        File.WriteAllText(path, (json ?? TokenizerJson()).ToJsonString());
        return path;
    }
}
