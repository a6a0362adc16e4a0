using System.Globalization;
using System.Runtime.CompilerServices;

namespace LlamaGuardSharp.Tokenization;

/// <summary>
/// Hand-written scanner equivalent to the Llama 3 pre-tokenisation regex
/// <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>
/// with leftmost-first alternation, evaluated over Unicode scalar values (not UTF-16 code units, which is why .NET
/// <see cref="System.Text.RegularExpressions.Regex"/> is not used: it cannot classify supplementary-plane letters/digits).
/// <c>\s</c> is the Unicode White_Space property (U+0009–U+000D, U+0020, U+0085, U+00A0, Zs, Zl, Zp), as in the Python
/// <c>regex</c> module and .NET; U+001C–U+001F are not whitespace.
/// </summary>
internal static class Llama3PreTokenizer
{
    /// <summary>The exact pattern string as stored in Llama 3 <c>tokenizer.json</c> files (and Meta's tokenizer.py).</summary>
    public const string Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Code point classes the pattern distinguishes.</summary>
    internal enum CharClass : byte
    {
        EndOfText = 0,
        Letter = 1,
        Number = 2,
        /// <summary>White_Space other than CR and LF.</summary>
        Space = 3,
        /// <summary>CR or LF (whitespace that <c>[\r\n]</c> matches).</summary>
        NewLine = 4,
        /// <summary>Everything else: <c>[^\s\p{L}\p{N}]</c>.</summary>
        Other = 5,
    }

    // Classes of U+0000..U+007F (RVA data, immutable).
    private static ReadOnlySpan<byte> AsciiClasses =>
    [
        5, 5, 5, 5, 5, 5, 5, 5, 5, 3, 4, 3, 3, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5,
        3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 5, 5, 5, 5, 5, 5,
        5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 5,
        5, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 5,
    ];

    /// <summary>Classifies one Unicode scalar value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static CharClass Classify(int codePoint)
    {
        if (codePoint < 0x80)
        {
            return (CharClass)AsciiClasses[codePoint];
        }
        return ClassifyNonAscii(codePoint);
    }

    private static CharClass ClassifyNonAscii(int codePoint)
    {
        if (codePoint is 0x85 or 0xA0)
        {
            return CharClass.Space;
        }
        switch (CharUnicodeInfo.GetUnicodeCategory(codePoint))
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                return CharClass.Letter;
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.OtherNumber:
                return CharClass.Number;
            case UnicodeCategory.SpaceSeparator:
            case UnicodeCategory.LineSeparator:
            case UnicodeCategory.ParagraphSeparator:
                return CharClass.Space;
            default:
                return CharClass.Other;
        }
    }

    /// <summary>
    /// Returns the end (exclusive, in UTF-16 units) of the pre-token that starts at <paramref name="start"/>
    /// (<paramref name="start"/> &lt; <c>text.Length</c>). Every position starts some match, so consecutive calls tile the text.
    /// </summary>
    /// <param name="text">The segment being split (no special tokens inside).</param>
    /// <param name="start">Start of the pre-token.</param>
    /// <param name="indexBase">Offset of <paramref name="text"/> in the caller's string, for error messages.</param>
    /// <param name="horizon">
    /// One past the last index the decision looked at; <c>text.Length + 1</c> when it had to look at the end of the text.
    /// A pre-token whose horizon is &lt;= <c>text.Length</c> is final: appending anything to the text cannot change it.
    /// </param>
    /// <exception cref="ArgumentException">A lone surrogate was found.</exception>
    internal static int NextPreTokenEnd(ReadOnlySpan<char> text, int start, int indexBase, out int horizon)
    {
        var cursor = new Cursor(text, indexBase);
        int end = Match(ref cursor, start);
        horizon = cursor.Horizon;
        return end;
    }

    private static int Match(ref Cursor c, int i)
    {
        CharClass cls0 = c.Peek(i, out int cp0, out int w0);

        // (?i:'s|'t|'re|'ve|'m|'ll|'d) — simple case folding, so 's' also matches U+017F LATIN SMALL LETTER LONG S.
        if (cp0 == '\'')
        {
            c.Peek(i + 1, out int cp1, out _);
            switch (cp1)
            {
                case 's' or 'S' or 0x17F or 't' or 'T' or 'm' or 'M' or 'd' or 'D':
                    return i + 2;
                case 'r' or 'R' or 'v' or 'V':
                    c.Peek(i + 2, out int cpE, out _);
                    if (cpE is 'e' or 'E')
                    {
                        return i + 3;
                    }
                    break;
                case 'l' or 'L':
                    c.Peek(i + 2, out int cpL, out _);
                    if (cpL is 'l' or 'L')
                    {
                        return i + 3;
                    }
                    break;
            }
        }

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (cls0 == CharClass.Letter)
        {
            return c.SkipWhile(i + w0, CharClass.Letter);
        }
        if (cls0 is CharClass.Space or CharClass.Other)
        {
            if (c.Peek(i + w0, out _, out _) == CharClass.Letter)
            {
                return c.SkipWhile(i + w0, CharClass.Letter);
            }
        }

        // \p{N}{1,3}
        if (cls0 == CharClass.Number)
        {
            int end = i + w0;
            for (int n = 1; n < 3; n++)
            {
                if (c.Peek(end, out _, out int w) != CharClass.Number)
                {
                    break;
                }
                end += w;
            }
            return end;
        }

        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        int otherStart = cp0 == ' ' ? i + 1 : i;
        if (c.Peek(otherStart, out _, out _) == CharClass.Other)
        {
            int end = c.SkipWhile(otherStart, CharClass.Other);
            return c.SkipWhile(end, CharClass.NewLine);
        }

        // Only whitespace can start here: \s*[\r\n]+ | \s+(?!\S) | \s+. White_Space code points are all in the BMP (one unit each).
        int runEnd = i;
        int lastNewLine = -1;
        while (true)
        {
            CharClass cls = c.Peek(runEnd, out _, out _);
            if (cls == CharClass.NewLine)
            {
                lastNewLine = runEnd;
            }
            else if (cls != CharClass.Space)
            {
                break;
            }
            runEnd++;
        }
        if (lastNewLine >= 0)
        {
            // \s* backtracks to the last CR/LF of the run; [\r\n]+ then ends right after it.
            return lastNewLine + 1;
        }
        if (runEnd == c.Length || runEnd - i == 1)
        {
            // \s+(?!\S) takes the whole run at the end of text; a single space before \S falls to \s+.
            return runEnd;
        }
        // \s+(?!\S) gives back the last whitespace so that it can prefix the following word/punctuation.
        return runEnd - 1;
    }

    /// <summary>Decodes scalar values and records how far the scanner has looked.</summary>
    private ref struct Cursor
    {
        private readonly ReadOnlySpan<char> _text;
        private readonly int _indexBase;
        public int Horizon;

        public Cursor(ReadOnlySpan<char> text, int indexBase)
        {
            _text = text;
            _indexBase = indexBase;
            Horizon = 0;
        }

        public readonly int Length => _text.Length;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public CharClass Peek(int index, out int codePoint, out int width)
        {
            if ((uint)index >= (uint)_text.Length)
            {
                Horizon = Math.Max(Horizon, _text.Length + 1);
                codePoint = -1;
                width = 0;
                return CharClass.EndOfText;
            }
            char ch = _text[index];
            if (ch < 0x80)
            {
                Horizon = Math.Max(Horizon, index + 1);
                codePoint = ch;
                width = 1;
                return (CharClass)AsciiClasses[ch];
            }
            return PeekNonAscii(index, out codePoint, out width);
        }

        private CharClass PeekNonAscii(int index, out int codePoint, out int width)
        {
            char ch = _text[index];
            if (!char.IsSurrogate(ch))
            {
                Horizon = Math.Max(Horizon, index + 1);
                codePoint = ch;
                width = 1;
                return ClassifyNonAscii(ch);
            }
            if (char.IsHighSurrogate(ch) && index + 1 < _text.Length && char.IsLowSurrogate(_text[index + 1]))
            {
                Horizon = Math.Max(Horizon, index + 2);
                codePoint = char.ConvertToUtf32(ch, _text[index + 1]);
                width = 2;
                return ClassifyNonAscii(codePoint);
            }
            throw new ArgumentException(
                $"The text contains a lone UTF-16 surrogate U+{(int)ch:X4} at index {_indexBase + index}; it has no UTF-8 encoding.",
                "text");
        }

        /// <summary>Returns the first index at or after <paramref name="index"/> whose code point is not of class <paramref name="cls"/>.</summary>
        public int SkipWhile(int index, CharClass cls)
        {
            while (true)
            {
                if (Peek(index, out _, out int w) != cls)
                {
                    return index;
                }
                index += w;
            }
        }
    }
}
