using System.Text.RegularExpressions;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>Parser messages in the user's terms (the parser names .NET types, e.g. <c>System.Nullable`1[System.Int32]</c>).</summary>
internal static partial class ParseErrors
{
    public static string Readable(string message)
    {
        var match = CannotParse().Match(message);
        if (!match.Success)
        {
            return message;
        }
        string type = match.Groups["type"].Value;
        string expected = type.Contains("UInt64") || type.Contains("UInt32") ? "a non-negative integer"
            : type.Contains("Int32") || type.Contains("Int64") ? "an integer"
            : type.Contains("Double") || type.Contains("Single") ? "a number"
            : type.Contains("Boolean") ? "true or false"
            : "a " + type;
        return $"{match.Groups["option"].Value} expects {expected}, not '{match.Groups["value"].Value}'";
    }

    [GeneratedRegex(@"^Cannot parse argument '(?<value>.*)' for option '(?<option>[^']+)' as expected type '(?<type>[^']+)'\.?$", RegexOptions.Singleline)]
    private static partial Regex CannotParse();
}
