using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// How the CLI reports failures: exactly one <c>error: …</c> line on stderr and exit code 1 (docs/limits.md).
/// </summary>
internal static class CliErrors
{
    /// <summary>Exit code of every user error (bad option, bad file, bad input).</summary>
    public const int ExitCode = 1;

    /// <summary>Which exceptions are the user's input being wrong (the message says what to fix).</summary>
    public static bool IsUserError(Exception e) => e is CheckpointFormatException or TokenizerFormatException or ImageDecodeException
        or ConversationException or SafetyPolicyException or ModelInputException or ModelOutputException or ArgumentException
        or IOException or UnauthorizedAccessException or FormatException
        or InvalidDataException // a malformed preprocessor_config.json
        or PlatformNotSupportedException; // --precision int8 on a CPU without AVX-VNNI

    /// <summary>The message of <paramref name="e"/> as one line (messages of nested or foreign exceptions may hold newlines).</summary>
    public static string Describe(Exception e) => IsUserError(e) ? OneLine(e.Message) : $"internal error ({e.GetType().Name}): {OneLine(e.Message)}";

    /// <summary>Writes <c>error: message</c> as one line and returns <see cref="ExitCode"/>.</summary>
    public static int Report(TextWriter error, string message)
    {
        error.WriteLine("error: " + OneLine(message));
        return ExitCode;
    }

    /// <inheritdoc cref="Report(TextWriter, string)"/>
    public static int Report(TextWriter error, Exception e) => Report(error, Describe(e));

    public static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
