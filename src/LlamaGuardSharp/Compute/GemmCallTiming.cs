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
#endif
