using System.Runtime.InteropServices;

namespace LlamaGuardSharp.Compute;

/// <summary><c>madvise</c> hints (Linux only; elsewhere, and on any error, they are no-ops: a hint never changes results).</summary>
internal static partial class MemoryAdvice
{
    private const int MadvWillNeed = 3;
    private const int MadvHugePage = 14;

    /// <summary>Whether the platform has the hints (Linux).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>Asks for asynchronous readahead of a file-backed range (<c>MADV_WILLNEED</c>); start must be page-aligned.</summary>
    public static void WillNeed(nint start, nuint length)
    {
        if (IsSupported)
        {
            _ = Madvise(start, length, MadvWillNeed);
        }
    }

    /// <summary>
    /// Asks for transparent huge pages for an anonymous range (<c>MADV_HUGEPAGE</c>; honoured where
    /// /sys/kernel/mm/transparent_hugepage/enabled is <c>madvise</c> or <c>always</c>); start must be page-aligned.
    /// </summary>
    public static void HugePages(nint start, nuint length)
    {
        if (IsSupported)
        {
            _ = Madvise(start, length, MadvHugePage);
        }
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
