using System.Diagnostics;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// Wall time and FLOPs per kernel call site, summed over calls: attach one to a <see cref="ComputeContext"/> to see
/// where a classification spends its time (<c>llamaguard bench --profile</c>). Entries are keyed by kernel and shape
/// (e.g. <c>gemm 6432×3840×1280</c>), so each model GEMM shows its own efficiency in the real run. Costs two
/// timestamp reads and a lock per kernel call while attached; nothing when not.
/// </summary>
internal sealed class KernelProfile
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, KernelProfileEntry> _entries = [];

    /// <summary>The entries so far, largest total time first.</summary>
    public IReadOnlyList<KernelProfileEntry> Entries
    {
        get
        {
            lock (_gate)
            {
                return [.. _entries.Values.OrderByDescending(e => e.Seconds)];
            }
        }
    }

    /// <summary>Forgets every entry.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
        }
    }

    /// <summary>Adds one call of <paramref name="kernel"/> on <paramref name="shape"/> that started at <paramref name="startTimestamp"/>.</summary>
    internal void Record(string kernel, string shape, double flops, long startTimestamp)
    {
        double seconds = Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
        string key = kernel + " " + shape;
        lock (_gate)
        {
            _entries[key] = _entries.TryGetValue(key, out var e)
                ? e with { Calls = e.Calls + 1, Seconds = e.Seconds + seconds, Flops = e.Flops + flops }
                : new KernelProfileEntry(kernel, shape, 1, seconds, flops);
        }
    }
}

/// <summary>One kernel at one shape: calls, total wall seconds and total FLOPs (0 for elementwise kernels).</summary>
internal sealed record KernelProfileEntry(string Kernel, string Shape, long Calls, double Seconds, double Flops)
{
    /// <summary>FLOPs per wall second in GFLOP/s (0 when no FLOPs are counted).</summary>
    public double Gflops => Seconds > 0 ? Flops / Seconds / 1e9 : 0;
}
