using System.Runtime.InteropServices;

namespace LlamaGuardSharp.IO;

/// <summary>What a path names, as <c>stat</c> reports it (after following symbolic links).</summary>
internal enum FileKind
{
    /// <summary>Nothing exists at the path.</summary>
    Missing,

    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A named pipe: opening it for reading blocks until a writer appears.</summary>
    Fifo,

    /// <summary>A character device such as <c>/dev/zero</c> or a terminal.</summary>
    CharacterDevice,

    /// <summary>A block device.</summary>
    BlockDevice,

    /// <summary>A Unix socket.</summary>
    Socket,

    /// <summary>A path component cannot be searched (permission denied) or the kind is unknown.</summary>
    Inaccessible,
}

/// <summary>
/// Tells the kind of a path without opening it, so that a FIFO is refused instead of blocking the caller in <c>open</c>.
/// On Linux this is <c>statx</c>, whose buffer layout is the same on every architecture; elsewhere the managed API
/// (which cannot tell devices from files, so the size limit of the reader remains the guard there).
/// </summary>
internal static partial class FileKinds
{
    private const int AtFdCwd = -100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1;
    private const int StatxModeOffset = 28;
    private const int StatxBufferSize = 256;
    private const int Enoent = 2;
    private const int Enotdir = 20;

    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Fifo => "a named pipe (FIFO)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        FileKind.Directory => "a directory",
        _ => "not a regular file",
    };

    public static FileKind Of(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                return OfLinux(path);
            }
            catch (EntryPointNotFoundException)
            {
                // A C library without statx (glibc < 2.28): fall through to the managed view.
            }
        }
        if (System.IO.Directory.Exists(path))
        {
            return FileKind.Directory;
        }
        return File.Exists(path) ? FileKind.Regular : FileKind.Missing;
    }

    /// <summary>The kind of an open handle (Linux; elsewhere <see cref="FileKind.Regular"/> for any non-directory).</summary>
    public static FileKind Of(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux())
        {
            return FileKind.Regular;
        }
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return Statx((int)handle.DangerousGetHandle(), "", AtEmptyPath);
        }
        catch (EntryPointNotFoundException)
        {
            return FileKind.Regular;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static FileKind OfLinux(string path) => Statx(AtFdCwd, path, 0);

    private static unsafe FileKind Statx(int directoryFd, string path, int flags)
    {
        byte* buffer = stackalloc byte[StatxBufferSize];
        if (StatxNative(directoryFd, path, flags, StatxType, buffer) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            return errno is Enoent or Enotdir ? FileKind.Missing : FileKind.Inaccessible;
        }
        int mode = *(ushort*)(buffer + StatxModeOffset) & 0xF000;
        return mode switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            _ => FileKind.Inaccessible,
        };
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int StatxNative(int directoryFd, string path, int flags, uint mask, byte* buffer);
}
