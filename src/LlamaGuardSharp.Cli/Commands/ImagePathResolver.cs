using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// Where the <c>"image"</c> path of a batch line points. By default a relative path is resolved against the input
/// file's folder and an absolute path is used as given (the user's own files, like any other command-line tool); with
/// <c>--input-root</c> the path must be relative and stay inside that folder (<see cref="InputRoot"/>).
/// </summary>
internal sealed class ImagePathResolver
{
    private readonly string? _baseDirectory;
    private readonly InputRoot? _root;

    private ImagePathResolver(string? baseDirectory, InputRoot? root)
    {
        _baseDirectory = baseDirectory;
        _root = root;
    }

    public static ImagePathResolver RelativeTo(string baseDirectory) => new(baseDirectory, null);

    public static ImagePathResolver Confined(InputRoot root) => new(null, root);

    /// <exception cref="InputFileException">with a root: the path leaves it.</exception>
    /// <exception cref="FileNotFoundException">with a root: nothing there inside it.</exception>
    public string Resolve(string path) => _root is not null ? _root.Resolve(path, "image") : Path.Combine(_baseDirectory!, path);
}
