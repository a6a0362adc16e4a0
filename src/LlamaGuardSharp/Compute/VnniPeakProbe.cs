using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Measures the machine's attainable int8 rate on 256-bit AVX-VNNI (<c>vpdpbusd</c>, what <see cref="GemmInt8"/> runs):
/// a register-only loop with 12 independent accumulators on every thread of the context, as <see cref="PeakProbe"/>
/// does for float32 FMA. One <c>vpdpbusd</c> is 8 lanes × 4 multiply-adds = 64 integer operations. The int8 benchmarks
/// report their GOP/s as a fraction of this figure measured in the same run.
/// </summary>
internal static class VnniPeakProbe
{
    /// <summary>Median wall-clock GOP/s and GOP per CPU-second (the <see cref="PeakMeasurement"/> fields hold GOP here).</summary>
    public static PeakMeasurement Measure(ComputeContext context, int runs = 5, int millisecondsPerRun = 100)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!AvxVnni.IsSupported)
        {
            throw new PlatformNotSupportedException("AVX-VNNI is not available on this host.");
        }
        return PeakProbe.MeasureLoop(context, iterations => Spin(iterations), OpsPerIteration, runs, millisecondsPerRun);
    }

    private const int OpsPerIteration = 12 * 8 * 4 * 2;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static int Spin(long iterations)
    {
        Vector256<byte> x = Vector256.Create((byte)3);
        Vector256<sbyte> w = Vector256.Create((sbyte)-1);
        Vector256<int> a0 = Vector256.Create(1), a1 = a0 + a0, a2 = a1 + a0, a3 = a2 + a0, a4 = a3 + a0, a5 = a4 + a0;
        Vector256<int> a6 = a5 + a0, a7 = a6 + a0, a8 = a7 + a0, a9 = a8 + a0, a10 = a9 + a0, a11 = a10 + a0;
        for (long i = 0; i < iterations; i++)
        {
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, x, w);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, x, w);
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, x, w);
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, x, w);
            a4 = AvxVnni.MultiplyWideningAndAdd(a4, x, w);
            a5 = AvxVnni.MultiplyWideningAndAdd(a5, x, w);
            a6 = AvxVnni.MultiplyWideningAndAdd(a6, x, w);
            a7 = AvxVnni.MultiplyWideningAndAdd(a7, x, w);
            a8 = AvxVnni.MultiplyWideningAndAdd(a8, x, w);
            a9 = AvxVnni.MultiplyWideningAndAdd(a9, x, w);
            a10 = AvxVnni.MultiplyWideningAndAdd(a10, x, w);
            a11 = AvxVnni.MultiplyWideningAndAdd(a11, x, w);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
