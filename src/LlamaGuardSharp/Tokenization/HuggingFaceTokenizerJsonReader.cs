using System.Text.Json;

namespace LlamaGuardSharp.Tokenization;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> of the Llama 3 family: byte-level BPE (<c>model.vocab</c>, <c>model.merges</c> as
/// <c>"a b"</c> strings or <c>["a","b"]</c> pairs) and <c>added_tokens</c>. Rejects other pre-tokenizers, since the scanner
/// implements only the Llama 3 pattern.
/// </summary>
internal static class HuggingFaceTokenizerJsonReader
{
    public static TokenizerDefinition Read(string path, byte[] utf8Json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8Json, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(path, $"not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new TokenizerFormatException(path, "the top-level JSON value is not an object");
            }
            if (!root.TryGetProperty("model", out JsonElement model) || model.ValueKind != JsonValueKind.Object)
            {
                throw new TokenizerFormatException(path, "missing object 'model'");
            }
            if (model.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String && type.GetString() != "BPE")
            {
                throw new TokenizerFormatException(path, $"model.type is '{type.GetString()}', only byte-level 'BPE' is supported");
            }
            CheckPreTokenizer(path, root);

            int[] charToByte = ByteLevelAlphabet.CreateCharToByte();
            List<byte[]?> tokens = ReadVocabulary(path, model, charToByte);
            List<SpecialToken> specials = ReadAddedTokens(path, root);
            int vocabularySize = Math.Max(tokens.Count, specials.Count == 0 ? 0 : specials.Max(s => s.Id) + 1);

            var vocabulary = new TokenByteTable(tokens, (first, second) =>
                throw new TokenizerFormatException(path, $"model.vocab ids {first} and {second} have the same bytes"));
            for (int b = 0; b < 256; b++)
            {
                if (vocabulary.SingleByteIds[b] < 0)
                {
                    throw new TokenizerFormatException(path, $"model.vocab has no token for the single byte 0x{b:X2}; byte-level BPE needs all 256");
                }
            }
            PairMergeTable merges = ReadMerges(path, model, vocabulary, charToByte);
            return new TokenizerDefinition(vocabulary, merges, specials, vocabularySize, path);
        }
    }

    private static void CheckPreTokenizer(string path, JsonElement root)
    {
        if (!root.TryGetProperty("pre_tokenizer", out JsonElement preTokenizer) || preTokenizer.ValueKind == JsonValueKind.Null)
        {
            throw new TokenizerFormatException(path, "missing 'pre_tokenizer'; expected the Llama 3 Split regex");
        }
        var patterns = new List<string>();
        CollectSplitPatterns(preTokenizer, patterns);
        if (patterns.Count != 1 || patterns[0] != Llama3PreTokenizer.Pattern)
        {
            string found = patterns.Count == 0 ? "no Split regex" : string.Join(" | ", patterns);
            throw new TokenizerFormatException(path, $"unsupported pre-tokenizer ({found}); only the Llama 3 pattern {Llama3PreTokenizer.Pattern} is implemented");
        }
    }

    private static void CollectSplitPatterns(JsonElement element, List<string> patterns)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement item in element.EnumerateArray())
            {
                CollectSplitPatterns(item, patterns);
            }
            return;
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            return;
        }
        if (element.TryGetProperty("pattern", out JsonElement pattern) && pattern.ValueKind == JsonValueKind.Object)
        {
            foreach (JsonProperty p in pattern.EnumerateObject())
            {
                if (p.Value.ValueKind == JsonValueKind.String)
                {
                    patterns.Add(p.Value.GetString()!);
                }
            }
        }
        if (element.TryGetProperty("pretokenizers", out JsonElement inner))
        {
            CollectSplitPatterns(inner, patterns);
        }
    }

    private static List<byte[]?> ReadVocabulary(string path, JsonElement model, int[] charToByte)
    {
        if (!model.TryGetProperty("vocab", out JsonElement vocab) || vocab.ValueKind != JsonValueKind.Object)
        {
            throw new TokenizerFormatException(path, "missing object 'model.vocab'");
        }
        var tokens = new List<byte[]?>(vocab.GetPropertyCount());
        foreach (JsonProperty entry in vocab.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0 || id > 10_000_000)
            {
                throw new TokenizerFormatException(path, $"model.vocab entry '{entry.Name}' has an invalid id {entry.Value.GetRawText()}");
            }
            byte[] bytes = ByteLevelAlphabet.Decode(entry.Name, charToByte)
                ?? throw new TokenizerFormatException(path, $"model.vocab entry '{entry.Name}' (id {id}) is not in the byte-level alphabet");
            while (tokens.Count <= id)
            {
                tokens.Add(null);
            }
            if (tokens[id] is not null)
            {
                throw new TokenizerFormatException(path, $"model.vocab id {id} is used twice");
            }
            tokens[id] = bytes;
        }
        if (tokens.Count == 0)
        {
            throw new TokenizerFormatException(path, "model.vocab is empty");
        }
        return tokens;
    }

    private static PairMergeTable ReadMerges(string path, JsonElement model, TokenByteTable vocabulary, int[] charToByte)
    {
        if (!model.TryGetProperty("merges", out JsonElement mergesJson) || mergesJson.ValueKind != JsonValueKind.Array)
        {
            throw new TokenizerFormatException(path, "missing array 'model.merges'");
        }
        var merges = new PairMergeTable(mergesJson.GetArrayLength());
        // Both halves are decoded into one buffer so that the merged token is looked up without building a string.
        Span<byte> buffer = stackalloc byte[1024];
        int rank = 0;
        foreach (JsonElement merge in mergesJson.EnumerateArray())
        {
            int leftLength;
            int totalLength;
            if (merge.ValueKind == JsonValueKind.String)
            {
                string text = merge.GetString()!;
                int space = text.IndexOf(' ', StringComparison.Ordinal);
                if (space <= 0 || space == text.Length - 1 || text.IndexOf(' ', space + 1) >= 0)
                {
                    throw new TokenizerFormatException(path, $"model.merges[{rank}] \"{text}\" is not two tokens separated by one space");
                }
                leftLength = DecodeChars(text.AsSpan(0, space), charToByte, buffer);
                int rightLength = leftLength < 0 ? -1 : DecodeChars(text.AsSpan(space + 1), charToByte, buffer[leftLength..]);
                totalLength = rightLength < 0 ? -1 : leftLength + rightLength;
            }
            else if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2)
            {
                using JsonElement.ArrayEnumerator halves = merge.EnumerateArray();
                halves.MoveNext();
                leftLength = DecodeStringElement(halves.Current, charToByte, buffer);
                halves.MoveNext();
                int rightLength = leftLength < 0 ? -1 : DecodeStringElement(halves.Current, charToByte, buffer[leftLength..]);
                totalLength = rightLength < 0 ? -1 : leftLength + rightLength;
            }
            else
            {
                throw new TokenizerFormatException(path, $"model.merges[{rank}] is neither \"a b\" nor [\"a\", \"b\"]");
            }
            int leftId = totalLength < 0 ? -1 : vocabulary.Find(buffer[..leftLength]);
            int rightId = leftId < 0 ? -1 : vocabulary.Find(buffer[leftLength..totalLength]);
            int mergedId = rightId < 0 ? -1 : vocabulary.Find(buffer[..totalLength]);
            if (mergedId < 0)
            {
                throw new TokenizerFormatException(path, $"model.merges[{rank}] {merge.GetRawText()} uses a token that is not in model.vocab");
            }
            // A repeated pair keeps its first (highest-priority) rule, as HF tokenizers does.
            merges.TryAdd(leftId, rightId, rank, mergedId);
            rank++;
        }
        return merges;
    }

    /// <summary>Decodes a JSON string of byte-level alphabet characters into <paramref name="destination"/>; -1 if impossible.</summary>
    private static int DecodeStringElement(JsonElement element, int[] charToByte, Span<byte> destination)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            return -1;
        }
        // The raw UTF-8 (with quotes) avoids allocating a string per merge half; escaped strings take the slow path.
        ReadOnlySpan<byte> raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(element);
        raw = raw[1..^1];
        if (raw.Contains((byte)'\\'))
        {
            return DecodeChars(element.GetString(), charToByte, destination);
        }
        int length = 0;
        while (!raw.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf8(raw, out System.Text.Rune rune, out int consumed) != System.Buffers.OperationStatus.Done
                || rune.Value >= charToByte.Length || charToByte[rune.Value] < 0 || length >= destination.Length)
            {
                return -1;
            }
            destination[length++] = (byte)charToByte[rune.Value];
            raw = raw[consumed..];
        }
        return length;
    }

    private static int DecodeChars(ReadOnlySpan<char> text, int[] charToByte, Span<byte> destination)
    {
        if (text.Length > destination.Length)
        {
            return -1;
        }
        for (int i = 0; i < text.Length; i++)
        {
            int ch = text[i];
            if (ch >= charToByte.Length || charToByte[ch] < 0)
            {
                return -1;
            }
            destination[i] = (byte)charToByte[ch];
        }
        return text.Length;
    }

    private static List<SpecialToken> ReadAddedTokens(string path, JsonElement root)
    {
        var specials = new List<SpecialToken>();
        if (!root.TryGetProperty("added_tokens", out JsonElement added) || added.ValueKind == JsonValueKind.Null)
        {
            return specials;
        }
        if (added.ValueKind != JsonValueKind.Array)
        {
            throw new TokenizerFormatException(path, "'added_tokens' is not an array");
        }
        int index = 0;
        foreach (JsonElement token in added.EnumerateArray())
        {
            if (token.ValueKind != JsonValueKind.Object
                || !token.TryGetProperty("id", out JsonElement idJson) || !idJson.TryGetInt32(out int id) || id < 0 || id > 10_000_000
                || !token.TryGetProperty("content", out JsonElement contentJson) || contentJson.ValueKind != JsonValueKind.String
                || string.IsNullOrEmpty(contentJson.GetString()))
            {
                throw new TokenizerFormatException(path, $"added_tokens[{index}] needs an integer 'id' and a non-empty string 'content'");
            }
            string content = contentJson.GetString()!;
            specials.Add(new SpecialToken(content, id, Encodable: true));
            index++;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (SpecialToken s in specials)
        {
            if (!seen.Add(s.Content))
            {
                throw new TokenizerFormatException(path, $"added token '{s.Content}' appears twice");
            }
        }
        return specials;
    }
}
