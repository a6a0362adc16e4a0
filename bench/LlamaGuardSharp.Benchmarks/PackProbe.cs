using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Benchmarks;

/// <summary>
/// <c>pack-probe</c>: GemmPacked's A packing (14 rows × 16 columns per step, register transpose) of vision fc2's
/// activations (6432 × 5120, from DRAM) into one reused, L2-resident 448-row buffer, with the real 14-float rows (masked
/// stores) and with 16-float rows (full, aligned stores). 2026-11-28: ≈ 15 ms either way, against ≈ 41 ms for the same
/// packing inside the GEMM (bench/gemm_calls.sh), whose ring slot (448 × 5120 floats) is not cache-resident — the
/// write-allocate of the slot, not the transpose or the masked stores, is the packing's cost there.
/// </summary>
public static unsafe class PackProbe
{
    public static void Run()
    {
        const int m = 6432, k = 5120, kc = 736, MR = 14;
        float* a = (float*)NativeMemory.AlignedAlloc((nuint)((long)m * k * 4), 64);
        for (long i = 0; i < (long)m * k; i++) a[i] = i % 17;
        float* dst = (float*)NativeMemory.AlignedAlloc((nuint)(448L * 16 * kc * 4 + 4096), 64);
        Vector512<float> mask14 = Vector512.Create(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0).AsSingle();
        for (int round = 0; round < 4; round++)
        {
            foreach (int stride in new[] { 14, 16 })
            {
                var sw = Stopwatch.StartNew();
                for (int blockStart = 0; blockStart + 448 <= m; blockStart += 448)
                {
                    for (int p0 = 0; p0 + kc <= k; p0 += kc)
                    {
                        for (int r = 0; r < 32; r++)
                        {
                            float* src = a + (long)(blockStart + r * MR) * k + p0;
                            float* d = dst + (long)r * stride * kc;
                            for (int p = 0; p + 16 <= kc; p += 16)
                            {
                                float* s0 = src + p;
                                Transpose16x16.Store(
                                    Vector512.Load(s0), Vector512.Load(s0 + 1L * k), Vector512.Load(s0 + 2L * k), Vector512.Load(s0 + 3L * k),
                                    Vector512.Load(s0 + 4L * k), Vector512.Load(s0 + 5L * k), Vector512.Load(s0 + 6L * k), Vector512.Load(s0 + 7L * k),
                                    Vector512.Load(s0 + 8L * k), Vector512.Load(s0 + 9L * k), Vector512.Load(s0 + 10L * k), Vector512.Load(s0 + 11L * k),
                                    Vector512.Load(s0 + 12L * k), Vector512.Load(s0 + 13L * k), Vector512<float>.Zero, Vector512<float>.Zero,
                                    d + (long)p * stride, stride, stride == 14 ? mask14 : Vector512<float>.AllBitsSet);
                            }
                        }
                    }
                }
                Console.WriteLine($"rows of {stride} floats: {sw.Elapsed.TotalMilliseconds:F1} ms for {(long)(m / 448) * 448 * k / 1e6:F1} M floats");
            }
        }
    }
}
