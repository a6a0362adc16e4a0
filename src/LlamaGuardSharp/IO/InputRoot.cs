using System.Runtime.InteropServices;

namespace LlamaGuardSharp.IO;

/// <summary>
/// A folder that paths named inside untrusted input (e.g. the <c>"image"</c> of a batch line) are confined to: a path
/// must be relative, is resolved against the folder, and must still lie inside it after <c>..</c> segments and
/// symbolic links are resolved. A path that leaves the folder is refused before the file system is consulted, so the
/// error says nothing about files outside it.
/// </summary>
public sealed partial class InputRoot
{
    /// <summary>Confines paths to <paramref name="directory"/> (which must exist; symbolic links in it are resolved once).</summary>
    /// <exception cref="FileNotFoundException">the folder does not exist.</exception>
    /// <exception cref="InputFileException">the path is not a folder.</exception>
    public InputRoot(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        FileKind kind = FileKinds.Of(directory);
        if (kind != FileKind.Directory)
        {
            throw kind == FileKind.Missing
                ? BoundedFile.NotFound(directory, "input root", null)
                : new InputFileException(InputFileProblem.NotRegularFile, "input root", directory, "is not a directory");
        }
        Directory = Path.TrimEndingDirectorySeparator(RealPath(Path.GetFullPath(directory)) ?? Path.GetFullPath(directory));
    }

    /// <summary>The confining folder: absolute, symbolic links resolved, no trailing separator.</summary>
    public string Directory { get; }

    /// <summary>
    /// The absolute path of <paramref name="relativePath"/> inside the root.
    /// </summary>
    /// <param name="relativePath">A relative path such as <c>images/a.png</c>.</param>
    /// <param name="description">What the path names, for messages (e.g. <c>"image"</c>).</param>
    /// <exception cref="InputFileException">
    /// <see cref="InputFileProblem.OutsideRoot"/> for an absolute path, one that climbs out with <c>..</c>, or one whose
    /// symbolic links lead outside.
    /// </exception>
    /// <exception cref="FileNotFoundException">nothing exists there inside the root.</exception>
    public string Resolve(string relativePath, string description)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        ArgumentException.ThrowIfNullOrEmpty(description);
        if (relativePath.Length == 0 || Path.IsPathRooted(relativePath) || relativePath.Contains('\0'))
        {
            throw Outside(relativePath, description, "must be a relative path inside the input root");
        }
        string combined = Path.GetFullPath(Path.Combine(Directory, relativePath));
        if (!IsInside(combined))
        {
            throw Outside(relativePath, description, "leaves the input root");
        }
        string? real = RealPath(combined);
        if (real is null)
        {
            throw BoundedFile.NotFound(relativePath, description, null, "not found under the input root");
        }
        if (!IsInside(real))
        {
            throw Outside(relativePath, description, "leads outside the input root (through a symbolic link)");
        }
        return real;
    }

    private bool IsInside(string fullPath)
    {
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return fullPath.Length > Directory.Length
            && fullPath.StartsWith(Directory, comparison)
            && (fullPath[Directory.Length] == Path.DirectorySeparatorChar || fullPath[Directory.Length] == Path.AltDirectorySeparatorChar
                || Directory.EndsWith(Path.DirectorySeparatorChar));
    }

    private static InputFileException Outside(string path, string description, string detail) =>
        new(InputFileProblem.OutsideRoot, description, path, detail);

    /// <summary>The path with every symbolic link resolved, or null when it does not exist.</summary>
    private static string? RealPath(string fullPath)
    {
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
        {
            nint resolved = RealPathNative(fullPath, 0);
            if (resolved == 0)
            {
                return null;
            }
            try
            {
                return Marshal.PtrToStringUTF8(resolved);
            }
            finally
            {
                Free(resolved);
            }
        }
        // Elsewhere: resolve the last component's link chain (enough where links in the middle are unusual).
        FileSystemInfo info = System.IO.Directory.Exists(fullPath) ? new DirectoryInfo(fullPath) : new FileInfo(fullPath);
        if (!info.Exists)
        {
            return null;
        }
        return info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? info.FullName;
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint RealPathNative(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(nint pointer);
}
