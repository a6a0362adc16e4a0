namespace LlamaGuardSharp.Hub.Tests;

/// <summary>A fresh folder under /tmp, deleted with everything in it.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"lgs-hub-{Guid.NewGuid():N}");

    public TempFolder() => Directory.CreateDirectory(Path);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // a child process may still be closing a file; /tmp is cleaned anyway
        }
    }
}
