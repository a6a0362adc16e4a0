using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// <c>decode-probe FILE [threads]</c>: the decode GEMV (M = 1, K = 4096, N = 14336 bf16, 117 MB) over consecutive
/// regions of a memory-mapped file (e.g. a checkpoint shard: file-backed page-cache pages, as the model reads its
/// weights) and over an anonymous copy of the same bytes, alternately, in GB/s of weights. Tells whether the decode's
/// lower bandwidth inside the model comes from the mapping rather than the kernel. The file's bytes are used as bf16
/// values whatever they hold (only the timing matters).
/// </summary>
public static unsafe class DecodeProbe
{
    private const int K = 4096, N = 14336; // text gate/up at decode

    public static void Run(string path, int threads)
    {
        long bytes = (long)K * N * 2;
        using var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        using var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* basePtr = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePtr);
        try
        {
            long length = new FileInfo(path).Length;
            int regions = (int)Math.Min(8, (length - 4096) / bytes);
            if (regions < 2)
            {
                throw new ArgumentException($"{path} is too small: needs at least {2 * bytes / 1e6:F0} MB.");
            }
            byte* anon = (byte*)NativeMemory.AlignedAlloc((nuint)(bytes * regions), 4096);
            try
            {
                // Page-aligned regions past the header; copying also pages the file regions in.
                byte* fileBase = basePtr + 4096;
                Buffer.MemoryCopy(fileBase, anon, bytes * regions, bytes * regions);
                var context = new ComputeContext(threads);
                float[] a = Enumerable.Range(0, K).Select(i => (float)Math.Sin(i)).ToArray();
                float[] c = new float[N];
                for (int rep = 0; rep < 5; rep++)
                {
                    double fileSeconds = Time(fileBase, regions, bytes, a, c, context), anonSeconds = Time(anon, regions, bytes, a, c, context);
                    Console.WriteLine($"decode GEMV 1×{K}→{N}, {regions} regions: file-mapped {bytes * regions / fileSeconds / 1e9:F1} GB/s, anonymous copy {bytes * regions / anonSeconds / 1e9:F1} GB/s");
                }
            }
            finally
            {
                NativeMemory.AlignedFree(anon);
            }
        }
        finally
        {
            view.SafeMemoryMappedViewHandle.ReleasePointer();
        }
    }

    private static double Time(byte* region0, int regions, long bytes, float[] a, float[] c, ComputeContext context)
    {
        var sw = Stopwatch.StartNew();
        for (int r = 0; r < regions; r++)
        {
            var w = new WeightMatrix(region0 + r * bytes, N, K, WeightType.BF16, null);
            Gemm.MatMulTransposed(a, 1, w, default, c, context);
        }
        return sw.Elapsed.TotalSeconds;
    }
}
