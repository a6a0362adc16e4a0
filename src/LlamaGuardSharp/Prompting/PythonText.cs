namespace LlamaGuardSharp.Prompting;

/// <summary>
/// Python string semantics the HF chat template relies on. Jinja's <c>trim</c> filter is Python <c>str.strip()</c>,
/// whose whitespace set is .NET's <see cref="char.IsWhiteSpace(char)"/> plus U+001C..U+001F (the information
/// separators, which Python counts as whitespace and .NET does not). All Python whitespace is in the BMP.
/// </summary>
internal static class PythonText
{
    public static bool IsWhitespace(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';

    /// <summary>Python <c>str.strip()</c>.</summary>
    public static string Strip(string text)
    {
        int start = 0, end = text.Length;
        while (start < end && IsWhitespace(text[start]))
        {
            start++;
        }
        while (end > start && IsWhitespace(text[end - 1]))
        {
            end--;
        }
        return text[start..end];
    }

    /// <summary>True when <see cref="Strip"/> would give the empty string.</summary>
    public static bool IsBlank(string text)
    {
        foreach (char c in text)
        {
            if (!IsWhitespace(c))
            {
                return false;
            }
        }
        return true;
    }
}
