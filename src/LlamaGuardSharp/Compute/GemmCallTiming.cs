#if GEMM_CALL_TIMING
using System.Diagnostics;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Diagnostic build only (<c>bench/gemm_calls.sh</c> compiles with <c>-p:GemmCallTiming=true</c>): per-call timing of
/// the packed GEMM's full-tile micro-kernel calls, by where the call sits — first K block or not, a K block's first
/// sweep over its B chunk (B panels fresh from L3) or not, a sweep's first call (a new A panel) or not. A class whose
/// mean is well above the steady class shows which operand the kernel waits for (the micro-kernel's prefetch streams came
/// from this table). Process-wide counters: the normal build has none of this.
/// </summary>
/// <remarks>
/// Each timestamp costs ≈ 30 ns plus a pipeline drain (the vDSO clock reads the TSC behind an lfence, which waits for the
/// kernel's last FMAs and stores), so "in Macro" minus the timed calls overstates Macro's own loop: with the C-tile
/// prefetches switched off that difference did not move (≈ 440 ns per call, mostly the timer's).
/// </remarks>
internal static class GemmCallTiming
{
    public const int Classes = 8;

    /// <summary>Slots after the call classes: time spent packing A and B micro-panels, and in whole Macro calls (one
    /// item's K block: the timed kernel calls plus edge tiles and loop overhead), in the short (≤ 8-row) panel's calls, and
    /// waiting (a compute item for its packed A, a pack item for a free A slot).</summary>
    public const int PackA = Classes, PackB = Classes + 1, Macro = Classes + 2, ShortPanel = Classes + 3, Wait = Classes + 4, Slots = Classes + 5;

    private static readonly long[] Ticks = new long[Slots];
    private static readonly long[] Counts = new long[Slots];

    /// <summary>Class index: 4·firstKBlock + 2·firstSweep + firstCallOfSweep.</summary>
    public static int Class(bool firstKBlock, bool firstSweep, bool firstCallOfSweep) =>
        (firstKBlock ? 4 : 0) + (firstSweep ? 2 : 0) + (firstCallOfSweep ? 1 : 0);

    public static void Add(int callClass, long ticks)
    {
        Interlocked.Add(ref Ticks[callClass], ticks);
        Interlocked.Increment(ref Counts[callClass]);
    }

    /// <summary>(calls, total seconds) per class, then for PackA, PackB, Macro, ShortPanel and Wait, since the last reset.</summary>
    public static (long Calls, double Seconds)[] Snapshot() =>
        Enumerable.Range(0, Slots).Select(i => (Volatile.Read(ref Counts[i]), Volatile.Read(ref Ticks[i]) / (double)Stopwatch.Frequency)).ToArray();

    public static void Reset()
    {
        for (int i = 0; i < Slots; i++)
        {
            Volatile.Write(ref Ticks[i], 0);
            Volatile.Write(ref Counts[i], 0);
        }
    }
}

/// <summary>The packed GEMM's steps (<see cref="IGemmSteps"/>), each timed into <see cref="GemmCallTiming"/>; the
/// schedule runs with these instead of <see cref="GemmSteps"/> in the diagnostic build.</summary>
internal readonly unsafe struct TimedGemmSteps : IGemmSteps
{
    public static void PackA(float* a, int m, int k, int i0, int p0, int kc, float* dst, bool gelu)
    {
        long start = Stopwatch.GetTimestamp();
        GemmPacked.PackA(a, m, k, i0, p0, kc, dst, gelu);
        GemmCallTiming.Add(GemmCallTiming.PackA, Stopwatch.GetTimestamp() - start);
    }

    public static void PackB(GemmTarget[] targets, int[] panelStart, int q, int p0, int kc, float* dst)
    {
        long start = Stopwatch.GetTimestamp();
        GemmPacked.PackB(targets, panelStart, q, p0, kc, dst);
        GemmCallTiming.Add(GemmCallTiming.PackB, Stopwatch.GetTimestamp() - start);
    }

    public static void Macro(float* pa, float* pb, int kc, int rp0, int rp1, int qp0, int qp1, int m, GemmTarget[] targets,
        int[] panelStart, bool first, bool lastBlock, in GemmPacked.Lookahead ahead)
    {
        long start = Stopwatch.GetTimestamp();
        GemmPacked.Macro<TimedGemmSteps>(pa, pb, kc, rp0, rp1, qp0, qp1, m, targets, panelStart, first, lastBlock, ahead);
        GemmCallTiming.Add(GemmCallTiming.Macro, Stopwatch.GetTimestamp() - start);
    }

    /// <summary>Only an actual wait is counted (a counter already at its target costs nothing to time).</summary>
    public static void Wait(ref int counter, int target)
    {
        if (Volatile.Read(ref counter) >= target)
        {
            return;
        }
        long start = Stopwatch.GetTimestamp();
        GemmPacked.WaitUntil(ref counter, target);
        GemmCallTiming.Add(GemmCallTiming.Wait, Stopwatch.GetTimestamp() - start);
    }

    public static void FullTile(float* a, float* b, int kc, float* c, long ldc, bool accumulate, float* bias, byte* pfA, int pfALines,
        byte* pfB, TileCall call)
    {
        long start = Stopwatch.GetTimestamp();
        GemmMicroKernel.Kernel14x32(a, b, kc, c, ldc, accumulate, bias, pfA, pfALines, pfB);
        GemmCallTiming.Add(GemmCallTiming.Class(call.FirstKBlock, call.FirstSweep, call.FirstCallOfSweep), Stopwatch.GetTimestamp() - start);
    }

    public static void ShortPanel(float* a, float* b, int kc, float* c, long ldc, int rows, bool accumulate, float* bias)
    {
        long start = Stopwatch.GetTimestamp();
        GemmPacked.ShortPanel(a, b, kc, c, ldc, rows, accumulate, bias);
        GemmCallTiming.Add(GemmCallTiming.ShortPanel, Stopwatch.GetTimestamp() - start);
    }
}
#endif
