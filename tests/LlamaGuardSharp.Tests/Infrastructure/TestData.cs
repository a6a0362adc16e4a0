namespace LlamaGuardSharp.Tests.Infrastructure;

/// <summary>Locates the vendored test data (tests/data) from the test binary's folder, whatever the working directory.</summary>
public static class TestData
{
    private static readonly Lazy<string> Root = new(FindRoot);

    /// <summary>Absolute path of <c>tests/data</c>.</summary>
    public static string DataDir => Root.Value;

    /// <summary>Absolute path of <c>tests/data/golden</c> (a copy of the shared goldens; see its PROVENANCE.md).</summary>
    public static string GoldenDir => Path.Combine(Root.Value, "golden");

    /// <summary>Path of a file under <c>tests/data/golden</c>.</summary>
    public static string Golden(params string[] parts) => Path.Combine([GoldenDir, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "data", "golden");
            if (Directory.Exists(candidate))
            {
                return Path.Combine(dir.FullName, "tests", "data");
            }
        }
        throw new DirectoryNotFoundException("tests/data/golden not found above " + AppContext.BaseDirectory);
    }
}
