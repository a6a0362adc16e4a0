namespace LlamaGuardSharp.Checkpoints;

/// <summary>A checkpoint file or folder is malformed. The message names the file and, where known, the tensor.</summary>
public sealed class CheckpointFormatException : Exception
{
    public CheckpointFormatException(string file, string? tensor, string problem, Exception? inner = null)
        : base(Format(file, tensor, problem), inner)
    {
        FilePath = file;
        TensorName = tensor;
        Problem = problem;
    }

    /// <summary>The file that is malformed.</summary>
    public string FilePath { get; }

    /// <summary>The tensor concerned, if the problem is about one tensor.</summary>
    public string? TensorName { get; }

    /// <summary>What is wrong, without the file and tensor prefix.</summary>
    public string Problem { get; }

    private static string Format(string file, string? tensor, string problem) =>
        tensor is null ? $"{file}: {problem}" : $"{file}: tensor '{tensor}': {problem}";
}
