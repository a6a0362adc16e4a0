using System.Text;

namespace LlamaGuardSharp.Tokenization;

/// <summary>
/// Reads Meta's tiktoken <c>tokenizer.model</c>: one line per ordinary token, <c>&lt;base64 of the token bytes&gt; &lt;rank&gt;</c>,
/// rank = id = merge priority. There is no merges list: the pair (a, b) merges with priority rank(a‖b) whenever a, b and a‖b
/// are all tokens. Special tokens are added as Meta's llama3 tokenizer.py does (256 of them from id = number of ranks), except
/// that the text <c>&lt;|image|&gt;</c> encodes to 128256 (the HF id the model uses; Meta's ChatFormat remaps its 128011 there).
/// </summary>
internal static class TiktokenModelReader
{
    /// <summary>Number of special-token ids Meta reserves after the ranks.</summary>
    public const int ReservedSpecialTokenCount = 256;

    public static TokenizerDefinition Read(string path, byte[] content)
    {
        var tokens = new List<byte[]?>(128_000);
        int lineNumber = 0;
        int position = 0;
        ReadOnlySpan<byte> data = content;
        while (position < data.Length)
        {
            int newline = data[position..].IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = newline < 0 ? data[position..] : data.Slice(position, newline);
            position = newline < 0 ? data.Length : position + newline + 1;
            lineNumber++;
            if (line.Length > 0 && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }
            if (line.IsEmpty)
            {
                continue;
            }
            int space = line.IndexOf((byte)' ');
            if (space <= 0 || line[(space + 1)..].IndexOf((byte)' ') >= 0)
            {
                throw new TokenizerFormatException(path, $"line {lineNumber} is not '<base64> <rank>'");
            }
            string base64 = Encoding.ASCII.GetString(line[..space]);
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(base64);
            }
            catch (FormatException e)
            {
                throw new TokenizerFormatException(path, $"line {lineNumber}: '{base64}' is not valid base64", e);
            }
            if (bytes.Length == 0)
            {
                throw new TokenizerFormatException(path, $"line {lineNumber}: empty token");
            }
            if (!System.Buffers.Text.Utf8Parser.TryParse(line[(space + 1)..], out int rank, out int consumed)
                || consumed != line.Length - space - 1 || rank < 0 || rank > 10_000_000)
            {
                throw new TokenizerFormatException(path, $"line {lineNumber}: rank '{Encoding.ASCII.GetString(line[(space + 1)..])}' is not a non-negative integer");
            }
            while (tokens.Count <= rank)
            {
                tokens.Add(null);
            }
            if (tokens[rank] is not null)
            {
                throw new TokenizerFormatException(path, $"line {lineNumber}: rank {rank} is used twice");
            }
            tokens[rank] = bytes;
        }
        if (tokens.Count == 0)
        {
            throw new TokenizerFormatException(path, "no tokens");
        }
        int missing = tokens.IndexOf(null);
        if (missing >= 0)
        {
            throw new TokenizerFormatException(path, $"ranks are not contiguous: rank {missing} is missing");
        }

        var vocabulary = new TokenByteTable(tokens, (first, second) =>
            throw new TokenizerFormatException(path, $"ranks {first} and {second} have the same bytes"));
        for (int b = 0; b < 256; b++)
        {
            if (vocabulary.SingleByteIds[b] < 0)
            {
                throw new TokenizerFormatException(path, $"no token for the single byte 0x{b:X2}; byte-level BPE needs all 256");
            }
        }
        return new TokenizerDefinition(vocabulary, BuildMerges(tokens, vocabulary), CreateSpecialTokens(tokens.Count),
            tokens.Count + ReservedSpecialTokenCount + 1, path);
    }

    /// <summary>Every split of every token into two tokens is a merge rule with the priority of the whole token.</summary>
    private static PairMergeTable BuildMerges(List<byte[]?> tokens, TokenByteTable vocabulary)
    {
        // Count first so the table is sized exactly (Llama 3: ~280k rules for 128k tokens).
        var rules = new List<(int Left, int Right, int Merged)>(tokens.Count * 3);
        for (int id = 0; id < tokens.Count; id++)
        {
            ReadOnlySpan<byte> bytes = tokens[id];
            for (int split = 1; split < bytes.Length; split++)
            {
                int left = vocabulary.Find(bytes[..split]);
                if (left < 0)
                {
                    continue;
                }
                int right = vocabulary.Find(bytes[split..]);
                if (right >= 0)
                {
                    rules.Add((left, right, id));
                }
            }
        }
        var merges = new PairMergeTable(rules.Count);
        foreach (var (left, right, merged) in rules)
        {
            merges.TryAdd(left, right, merged, merged);
        }
        return merges;
    }

    /// <summary>Meta's llama3 special-token names, ids from <paramref name="firstId"/>; plus <c>&lt;|image|&gt;</c> at firstId + 256.</summary>
    private static List<SpecialToken> CreateSpecialTokens(int firstId)
    {
        string[] named =
        [
            "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
            "<|finetune_right_pad_id|>", "<|step_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>",
            "<|eot_id|>", "<|python_tag|>", "<|image|>",
        ];
        var specials = new List<SpecialToken>(ReservedSpecialTokenCount + 1);
        for (int i = 0; i < ReservedSpecialTokenCount; i++)
        {
            string name = i < named.Length ? named[i] : $"<|reserved_special_token_{2 + i - named.Length}|>";
            // Meta's <|image|> slot decodes as <|image|> but the text encodes to the HF id below.
            specials.Add(new SpecialToken(name, firstId + i, Encodable: name != "<|image|>"));
        }
        specials.Add(new SpecialToken("<|image|>", firstId + ReservedSpecialTokenCount, Encodable: true));
        return specials;
    }
}
