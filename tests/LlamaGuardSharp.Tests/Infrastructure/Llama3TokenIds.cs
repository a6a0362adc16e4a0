namespace LlamaGuardSharp.Tests;

/// <summary>
/// The ids of the Llama 3 tokenizer the tests' expectations are written in. Production code never uses literal ids: it
/// looks them up in the loaded tokenizer (Inference/VerdictTokens.cs); the tokenizer tests pin them here.
/// </summary>
internal static class Llama3TokenIds
{
    /// <summary><c>&lt;|begin_of_text|&gt;</c> (BOS).</summary>
    public const int BeginOfText = 128000;

    /// <summary><c>&lt;|end_of_text|&gt;</c>.</summary>
    public const int EndOfText = 128001;

    /// <summary><c>&lt;|start_header_id|&gt;</c>.</summary>
    public const int StartHeader = 128006;

    /// <summary><c>&lt;|end_header_id|&gt;</c>.</summary>
    public const int EndHeader = 128007;

    /// <summary><c>&lt;|eom_id|&gt;</c> (end of message).</summary>
    public const int EndOfMessage = 128008;

    /// <summary><c>&lt;|eot_id|&gt;</c> (end of turn).</summary>
    public const int EndOfTurn = 128009;

    /// <summary><c>&lt;|image|&gt;</c> as the HF checkpoint numbers it (Meta's tokenizer.py uses 128011 and remaps it).</summary>
    public const int Image = 128256;

    /// <summary>The ordinary token <c>safe</c> (first verdict token of a safe answer).</summary>
    public const int Safe = 19193;

    /// <summary>The ordinary token <c>unsafe</c>.</summary>
    public const int Unsafe = 39257;

    /// <summary>The ordinary token <c>\n\n</c>.</summary>
    public const int DoubleNewline = 271;

    /// <summary>The ordinary token <c>\n</c>.</summary>
    public const int Newline = 198;
}
