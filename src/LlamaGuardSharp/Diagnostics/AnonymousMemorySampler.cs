using System.Diagnostics;

namespace LlamaGuardSharp.Diagnostics;

/// <summary>
/// Samples this process's anonymous resident memory (Linux <c>RssAnon</c>: heap, stacks, buffers — not the
/// memory-mapped weights, which the page cache holds and can evict) every <c>interval</c> and keeps the peak.
/// Elsewhere it falls back to the working set. Dispose stops the sampling.
/// </summary>
internal sealed class AnonymousMemorySampler : IDisposable
{
    private readonly Timer _timer;
    private long _peakBytes;

    public AnonymousMemorySampler(TimeSpan? interval = null)
    {
        Sample();
        var period = interval ?? TimeSpan.FromMilliseconds(50);
        _timer = new Timer(_ => Sample(), null, period, period);
    }

    /// <summary>Largest anonymous resident size seen, in bytes.</summary>
    public long PeakBytes
    {
        get
        {
            Sample();
            return Interlocked.Read(ref _peakBytes);
        }
    }

    /// <summary>
    /// Resets the kernel's peak-resident mark of this process (Linux: <c>/proc/self/clear_refs</c> ← 5), so that
    /// <see cref="PeakResidentBytes"/> then covers what follows only (bench: the second precision's runs). False where
    /// that is not possible; the peak then still includes what came before.
    /// </summary>
    public static bool TryResetPeakResident()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return false;
        }
    }

    /// <summary>Peak resident size including file-backed pages (mapped weights that were touched), in bytes.</summary>
    public static long PeakResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64;
    }

    /// <summary>The current anonymous resident size in bytes (Linux), else the working set.</summary>
    public static long CurrentAnonymousBytes()
    {
        const string StatusFile = "/proc/self/status";
        if (File.Exists(StatusFile))
        {
            foreach (string line in File.ReadLines(StatusFile))
            {
                if (line.StartsWith("RssAnon:", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private void Sample()
    {
        long now = CurrentAnonymousBytes();
        long seen;
        while (now > (seen = Interlocked.Read(ref _peakBytes)) && Interlocked.CompareExchange(ref _peakBytes, now, seen) != seen)
        {
        }
    }

    public void Dispose() => _timer.Dispose();
}
