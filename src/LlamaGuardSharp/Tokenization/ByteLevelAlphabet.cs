namespace LlamaGuardSharp.Tokenization;

/// <summary>
/// The GPT-2 "byte-to-unicode" alphabet that HF <c>tokenizer.json</c> files use to store byte-level BPE tokens as printable
/// strings: printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in byte order.
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>Byte value of each alphabet character, or -1 for characters outside the alphabet (index = char, 0..323).</summary>
    public static int[] CreateCharToByte()
    {
        var charToByte = new int[324];
        charToByte.AsSpan().Fill(-1);
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= 33 and <= 126 or >= 161 and <= 172 or >= 174 and <= 255;
            int ch = printable ? b : 256 + extra++;
            charToByte[ch] = b;
        }
        return charToByte;
    }

    /// <summary>Decodes an alphabet string to bytes; returns null when it contains a character outside the alphabet.</summary>
    public static byte[]? Decode(string text, int[] charToByte)
    {
        var bytes = new byte[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            int ch = text[i];
            if (ch >= charToByte.Length || charToByte[ch] < 0)
            {
                return null;
            }
            bytes[i] = (byte)charToByte[ch];
        }
        return bytes;
    }
}
