using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>Which exceptions are the user's input being wrong (reported as one "error:" line, exit code 1).</summary>
internal static class CliErrors
{
    public static bool IsUserError(Exception e) => e is CheckpointFormatException or TokenizerFormatException or ImageDecodeException
        or ConversationException or SafetyPolicyException or ModelInputException or ArgumentException
        or IOException or UnauthorizedAccessException
        or InvalidDataException // a malformed preprocessor_config.json
        or PlatformNotSupportedException; // --precision int8 on a CPU without AVX-VNNI
}
