using LlamaGuardSharp.Tools;

// Regenerates the GEMM micro-kernels: dotnet run --project tools/GemmKernelGen [-- path/to/GemmMicroKernel.cs]
// (default: the file in this repository, found from the current folder upwards).
string target = args.Length > 0 ? args[0] : FindKernelFile();
File.WriteAllText(target, GemmMicroKernelSource.Generate());
Console.Error.WriteLine($"wrote {target}");
return 0;

static string FindKernelFile()
{
    const string relative = "src/LlamaGuardSharp/Compute/GemmMicroKernel.cs";
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, relative);
        if (File.Exists(candidate))
        {
            return candidate;
        }
    }
    throw new FileNotFoundException($"{relative} not found above {Directory.GetCurrentDirectory()}; pass the path.");
}
