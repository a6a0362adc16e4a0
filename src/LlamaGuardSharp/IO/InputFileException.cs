namespace LlamaGuardSharp.IO;

/// <summary>Why an input file was refused (see <see cref="InputFileException.Problem"/>).</summary>
public enum InputFileProblem
{
    /// <summary>The path names a directory where a file was expected.</summary>
    IsDirectory,

    /// <summary>The path names a FIFO, socket or device, which has no size and may never end or block forever.</summary>
    NotRegularFile,

    /// <summary>The file holds more bytes than the documented limit for its kind (docs/limits.md).</summary>
    TooLarge,

    /// <summary>The file exists but cannot be opened or read (permissions, I/O error).</summary>
    Unreadable,

    /// <summary>A path that must stay inside an <see cref="InputRoot"/> leads outside it.</summary>
    OutsideRoot,

    /// <summary>The file's bytes are not valid UTF-8 text where text is expected.</summary>
    NotText,
}

/// <summary>
/// An input file cannot be used; the message names the kind of file, the path and the problem in one line. Derives
/// from <see cref="IOException"/> so callers that already treat I/O failures as the user's input being wrong keep doing so.
/// A missing file is a <see cref="FileNotFoundException"/> with a message of the same form.
/// </summary>
public sealed class InputFileException : IOException
{
    public InputFileException(InputFileProblem problem, string description, string path, string detail, Exception? inner = null)
        : base($"{description} {path}: {detail}", inner)
    {
        Problem = problem;
        FilePath = path;
    }

    /// <summary>What is wrong with the file.</summary>
    public InputFileProblem Problem { get; }

    /// <summary>The path as the caller gave it.</summary>
    public string FilePath { get; }
}
