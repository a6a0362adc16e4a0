using System.Diagnostics;

namespace LlamaGuardSharp.Tests.Hardening;

/// <summary>
/// Paths that must never be read whole: devices without end, a FIFO without a writer, a sparse multi-GB file (no disk
/// use), a directory. Created once per test class in a private folder and removed afterwards.
/// </summary>
public sealed class HostileFiles : IDisposable
{
    public HostileFiles()
    {
        Directory.CreateDirectory(Folder);
        Sparse = Path.Combine(Folder, "sparse-6g.bin");
        using (var file = File.Create(Sparse))
        {
            file.SetLength(6L << 30);
        }
        Fifo = Path.Combine(Folder, "fifo");
        using (var mkfifo = Process.Start("mkfifo", [Fifo]))
        {
            mkfifo.WaitForExit();
        }
        SubFolder = Directory.CreateDirectory(Path.Combine(Folder, "a-folder")).FullName;
    }

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"lgs-hostile-{Guid.NewGuid():N}");

    public string Sparse { get; }

    public string Fifo { get; }

    public string SubFolder { get; }

    /// <summary>Each hostile path with the problem its error must name.</summary>
    public IEnumerable<(string Path, string Expected)> All =>
    [
        ("/dev/zero", "character device"),
        ("/dev/urandom", "character device"),
        (Fifo, "named pipe"),
        (Sparse, "larger than the limit"),
        (SubFolder, "is a directory"),
        (System.IO.Path.Combine(Folder, "missing.bin"), "not found"),
    ];

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
