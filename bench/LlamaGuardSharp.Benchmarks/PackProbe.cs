using System.Diagnostics;
using System.Runtime.InteropServices;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// <c>pack-probe</c>: GemmPacked's A packing of vision fc2's activations (6432 × 5120, from DRAM), in the GEMM's order
/// (row block by row block, every K block), into one reused 448-row buffer that stays in L2 — the same reads and transposes as inside the GEMM, without the
/// ring slot's write-allocate. 2026-11-28: ≈ 15–18 ms, against ≈ 41 ms for the same packing inside the GEMM
/// (bench/gemm_calls.sh, one thread), whose slot (448 × 5120 floats) is not cache-resident. Read the last rounds: PackA
/// is tiered code, and the first rounds run before the JIT's optimised tier (30–45 ms).
/// </summary>
public static unsafe class PackProbe
{
    public static void Run()
    {
        const int m = 6432, k = 5120, kc = 736, rows = 14, panelsPerBlock = 32;
        float* a = (float*)NativeMemory.AlignedAlloc((nuint)((long)m * k * 4), 64);
        float* dst = (float*)NativeMemory.AlignedAlloc((nuint)((long)panelsPerBlock * rows * kc * 4), 64);
        try
        {
            for (long i = 0; i < (long)m * k; i++)
            {
                a[i] = i % 17;
            }
            for (int round = 0; round < 8; round++)
            {
                var sw = Stopwatch.StartNew();
                // The GEMM's order: per row block of 32 panels, every K block (as its pack items do).
                int blocks = m / (rows * panelsPerBlock);
                for (int block = 0; block < blocks; block++)
                {
                    for (int p0 = 0; p0 + kc <= k; p0 += kc)
                    {
                        for (int r = 0; r < panelsPerBlock; r++)
                        {
                            GemmPacked.PackA(a, m, k, (block * panelsPerBlock + r) * rows, p0, kc, dst + (long)r * rows * kc, gelu: false);
                        }
                    }
                }
                Console.WriteLine($"packed {(long)blocks * panelsPerBlock * rows * (k / kc * kc) / 1e6:F1} M floats in {sw.Elapsed.TotalMilliseconds:F1} ms");
            }
        }
        finally
        {
            NativeMemory.AlignedFree(a);
            NativeMemory.AlignedFree(dst);
        }
    }
}
