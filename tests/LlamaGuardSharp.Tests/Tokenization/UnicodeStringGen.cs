using System.Text;
using CsCheck;

namespace LlamaGuardSharp.Tests.Tokenization;

/// <summary>Random strings biased towards what breaks pre-tokenizers: all planes, astral letters and digits, combining marks,
/// every kind of whitespace (incl. CR/LF runs), apostrophe contractions in any case, emoji.</summary>
public static class UnicodeStringGen
{
    private static readonly int[] Whitespace =
        [' ', ' ', ' ', '\n', '\r', '\t', 0x0B, 0x0C, 0x85, 0xA0, 0x1680, 0x2003, 0x2028, 0x2029, 0x202F, 0x3000, 0x1C, 0x1F, 0x200B];

    private static readonly int[] ContractionPieces =
        ['\'', '\'', 's', 'S', 't', 'T', 'r', 'R', 'e', 'E', 'v', 'V', 'm', 'M', 'l', 'L', 'd', 'D', 0x17F, 0x2019];

    /// <summary>One Unicode scalar value (never a surrogate code point).</summary>
    public static readonly Gen<int> CodePoint = Gen.Frequency(
        (4, Gen.Int[0x20, 0x7E]),
        (1, Gen.Int[0x00, 0x7F]),
        (3, Gen.OneOfConst(Whitespace)),
        (3, Gen.OneOfConst(ContractionPieces)),
        (2, Gen.Int[0x00A0, 0x07FF]),
        (2, Gen.Int[0x0800, 0xFFFF].Where(cp => cp is < 0xD800 or > 0xDFFF)),
        (1, Gen.Int[0x0300, 0x036F]),               // combining marks
        (1, Gen.Int[0x20000, 0x2A6DF]),             // CJK Extension B letters (astral \p{L})
        (1, Gen.Int[0x1D400, 0x1D7FF]),             // mathematical alphanumerics (astral \p{L} and \p{N})
        (1, Gen.Int[0x1F300, 0x1FAFF]),             // emoji
        (1, Gen.Int[0x10000, 0x10FFFF].Where(cp => cp is < 0xD800 or > 0xDFFF)));

    /// <summary>Strings of 0..<paramref name="maxCodePoints"/> scalar values.</summary>
    public static Gen<string> Text(int maxCodePoints) => CodePoint.Array[0, maxCodePoints].Select(ToText);

    public static string ToText(int[] codePoints)
    {
        var builder = new StringBuilder(codePoints.Length * 2);
        foreach (int cp in codePoints)
        {
            builder.Append(char.ConvertFromUtf32(cp));
        }
        return builder.ToString();
    }
}
