using System.Globalization;

namespace LlamaGuardSharp.Diagnostics;

/// <summary>
/// This process's major page faults so far (Linux <c>/proc/self/stat</c>, field 12): faults that had to read a page
/// from disk. During a warm classification these are mapped weight pages the page cache had evicted — the checkpoint
/// (21.3 GB) is close to this machine's memory, so a non-zero count means the run paid for disk reads.
/// </summary>
internal static class PageFaults
{
    /// <summary>Major faults so far, or null where <c>/proc/self/stat</c> is not available.</summary>
    public static long? Major()
    {
        const string StatFile = "/proc/self/stat";
        if (!File.Exists(StatFile))
        {
            return null;
        }
        string stat = File.ReadAllText(StatFile);
        // The command name (field 2) is in parentheses and may contain spaces: count fields after its closing one.
        int close = stat.LastIndexOf(')');
        var fields = stat[(close + 2)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state), so field 12 (majflt) is fields[9].
        return fields.Length > 9 && long.TryParse(fields[9], NumberStyles.Integer, CultureInfo.InvariantCulture, out long major) ? major : null;
    }
}
