using System.Diagnostics;
using System.Globalization;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>eval</c>'s progress on stderr: items done of the total, the rate of this run and the time left, e.g.
/// <c>eval: 120/500 (40 from an earlier run), 2.31 items/s, ETA 0:02:44</c>. At most one line a second, and always the last.
/// </summary>
internal sealed class EvalProgress(TextWriter error, int total, int alreadyDone)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan? _lastReport;
    private int _doneThisRun;

    /// <summary>One more item finished (or skipped as a bad line).</summary>
    public void Advance()
    {
        _doneThisRun++;
        var now = _clock.Elapsed;
        if (_lastReport is { } last && now - last < TimeSpan.FromSeconds(1) && alreadyDone + _doneThisRun < total)
        {
            return;
        }
        _lastReport = now;
        double rate = _doneThisRun / Math.Max(now.TotalSeconds, 1e-9);
        int left = total - alreadyDone - _doneThisRun;
        string eta = rate > 0 ? TimeSpan.FromSeconds(Math.Ceiling(left / rate)).ToString(@"h\:mm\:ss") : "?";
        error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"eval: {alreadyDone + _doneThisRun}/{total}")
            + (alreadyDone > 0 ? $" ({alreadyDone} from an earlier run)" : "")
            + string.Create(CultureInfo.InvariantCulture, $", {rate:0.00} items/s, ETA {eta}"));
    }
}
