using System.Runtime.InteropServices;

namespace LlamaGuardSharp.Tests.Infrastructure;

/// <summary>
/// User-mode CPU time of the calling thread (Linux <c>getrusage(RUSAGE_THREAD)</c>, <c>ru_utime</c>): what a synchronous
/// piece of work costs, whatever else the machine runs at the same time — wall time on a shared 2-core box is no measure
/// of an input's cost. Kernel time is left out on purpose: first touches of fresh memory, and the page reclaim they
/// trigger when the page cache fills the machine, are charged to the thread as system time, and they measure the host's
/// memory pressure, not the work (the defects these tests guard against, quadratic parsing, run in user mode).
/// </summary>
public static partial class ThreadCpuTime
{
    private const int RusageThread = 1;

    public static TimeSpan Now()
    {
        if (!OperatingSystem.IsLinux() || GetRusage(RusageThread, out var usage) != 0)
        {
            return TimeSpan.FromTicks(Environment.TickCount64 * TimeSpan.TicksPerMillisecond);
        }
        return TimeSpan.FromTicks(usage.UserSeconds * TimeSpan.TicksPerSecond + usage.UserMicroseconds * 10);
    }

    /// <summary>The thread's user-mode CPU time <paramref name="work"/> takes.</summary>
    public static TimeSpan Measure(Action work)
    {
        TimeSpan start = Now();
        work();
        return Now() - start;
    }

    /// <summary>struct rusage (64-bit Linux): ru_utime, ru_stime (timevals), then 14 longs.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct Rusage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public fixed long Rest[14];
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRusage(int who, out Rusage usage);
}
