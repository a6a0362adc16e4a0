using System.CommandLine;
using System.Globalization;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// The documented range of a numeric option (docs/limits.md), checked by the parser before any work starts: a value
/// outside it is a parse error (one <c>error:</c> line, exit code 1). The range is appended to the option's help text.
/// </summary>
internal static class OptionRanges
{
    public static Option<int> InRange(this Option<int> option, int min, int max) => Checked(option, min, max);

    public static Option<int?> InRange(this Option<int?> option, int min, int max) => Checked(option, min, max);

    public static Option<long?> InRange(this Option<long?> option, long min, long max) => Checked(option, min, max);

    /// <summary>Appends the range to the help text and adds the validator; <typeparamref name="T"/> is an integer type (or its nullable).</summary>
    private static Option<T> Checked<T>(Option<T> option, long min, long max)
    {
        AddRange(option, min, max);
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && TryGet<T>(result) is { } boxed && Convert.ToInt64(boxed, CultureInfo.InvariantCulture) is var value
                && (value < min || value > max))
            {
                result.AddError(Message(option, value, min, max));
            }
        });
        return option;
    }

    /// <summary>The parsed value, or null when the text is not a number at all (the parser reports that error itself).</summary>
    private static object? TryGet<T>(System.CommandLine.Parsing.OptionResult result)
    {
        try
        {
            return result.GetValueOrDefault<T>();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    private static void AddRange(Option option, long min, long max) =>
        option.Description = $"{option.Description} Range {Format(min)}..{Format(max)}.";

    private static string Message(Option option, long value, long min, long max) =>
        $"{option.Name} must be in {Format(min)}..{Format(max)}, not {Format(value)}.";

    private static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);
}
