namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// Reports progress on the reporting thread, one call at a time. <see cref="Progress{T}"/> would post each report to
/// the thread pool, so lines could appear out of order or after the command's result.
/// </summary>
internal sealed class LineProgress<T>(Action<T> report) : IProgress<T>
{
    private readonly Lock _gate = new();

    public void Report(T value)
    {
        lock (_gate)
        {
            report(value);
        }
    }
}
