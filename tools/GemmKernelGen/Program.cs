using LlamaGuardSharp.Tools;

// Regenerates the GEMM micro-kernels: dotnet run --project tools/GemmKernelGen [-- path/to/Compute]
// writes GemmMicroKernel.cs (float32, AVX-512) and GemmInt8MicroKernel.cs (int8, AVX-VNNI) into that folder
// (default: src/LlamaGuardSharp/Compute of this repository, found from the current folder upwards).
(string Name, Func<string> Generate)[] files =
[
    ("GemmMicroKernel.cs", GemmMicroKernelSource.Generate),
    ("GemmInt8MicroKernel.cs", GemmInt8MicroKernelSource.Generate),
];
const string Usage = "usage: GemmKernelGen [FOLDER] (writes GemmMicroKernel.cs and GemmInt8MicroKernel.cs into FOLDER; "
    + "default: src/LlamaGuardSharp/Compute found from the current folder upwards)";
if (args.Length > 1 || (args.Length == 1 && !Directory.Exists(args[0])))
{
    Console.Error.WriteLine($"error: {(args.Length == 1 ? $"{args[0]} is not a folder" : "one argument at most")}; {Usage}");
    return 1;
}
string? folder = args.Length == 1 ? args[0] : FindKernelFolder();
if (folder is null)
{
    Console.Error.WriteLine($"error: src/LlamaGuardSharp/Compute/GemmMicroKernel.cs not found above {Directory.GetCurrentDirectory()}; {Usage}");
    return 1;
}
foreach (var (name, generate) in files)
{
    string target = Path.Combine(folder, name);
    File.WriteAllText(target, generate());
    Console.Error.WriteLine($"wrote {target}");
}
return 0;

static string? FindKernelFolder()
{
    const string relative = "src/LlamaGuardSharp/Compute";
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        string candidate = Path.Combine(dir.FullName, relative);
        if (File.Exists(Path.Combine(candidate, "GemmMicroKernel.cs")))
        {
            return candidate;
        }
    }
    return null;
}
