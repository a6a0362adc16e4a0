using System.Runtime.InteropServices;

namespace LlamaGuardSharp.Tests.Infrastructure;

/// <summary>
/// CPU time of the calling thread (Linux <c>CLOCK_THREAD_CPUTIME_ID</c>): what a synchronous piece of work costs,
/// whatever else the machine runs at the same time — wall time on a shared 2-core box is no measure of an input's cost.
/// </summary>
public static partial class ThreadCpuTime
{
    private const int ClockThreadCpuTimeId = 3;

    public static TimeSpan Now()
    {
        if (!OperatingSystem.IsLinux() || ClockGetTime(ClockThreadCpuTimeId, out var spec) != 0)
        {
            return TimeSpan.FromTicks(Environment.TickCount64 * TimeSpan.TicksPerMillisecond);
        }
        return TimeSpan.FromTicks(spec.Seconds * TimeSpan.TicksPerSecond + spec.Nanoseconds / 100);
    }

    /// <summary>The thread CPU time <paramref name="work"/> takes.</summary>
    public static TimeSpan Measure(Action work)
    {
        TimeSpan start = Now();
        work();
        return Now() - start;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec spec);
}
