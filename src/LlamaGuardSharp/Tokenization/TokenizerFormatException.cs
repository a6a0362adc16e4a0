namespace LlamaGuardSharp.Tokenization;

/// <summary>A tokenizer file (HF <c>tokenizer.json</c> or tiktoken <c>tokenizer.model</c>) is missing, malformed or unsupported.</summary>
public sealed class TokenizerFormatException : Exception
{
    public TokenizerFormatException(string filePath, string problem, Exception? innerException = null)
        : base($"Tokenizer file '{filePath}': {problem}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The file (or directory) that could not be loaded.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the path.</summary>
    public string Problem { get; }
}
