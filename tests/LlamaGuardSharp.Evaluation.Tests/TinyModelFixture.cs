using System.Text.Json;

namespace LlamaGuardSharp.Evaluation.Tests;

/// <summary>
/// A tiny random-weight checkpoint (<c>llamaguard synth --preset tiny</c>) and a labelled input file of 40 items (some
/// with an agent turn, true categories on the unsafe ones) plus three bad lines, shared by the tests of a class.
/// </summary>
public sealed class TinyModelFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _temp = new("tiny");

    public string ModelDirectory => Path.Combine(_temp.Path, "model");

    public string InputPath => Path.Combine(_temp.Path, "input.jsonl");

    /// <summary>Valid items in <see cref="InputPath"/>.</summary>
    public const int ValidItems = 40;

    /// <summary>1-based line numbers of the bad lines in <see cref="InputPath"/>.</summary>
    public static readonly int[] BadLines = [11, 22, 33];

    public string NewDirectory(string name)
    {
        string path = Path.Combine(_temp.Path, name);
        Directory.CreateDirectory(path);
        return path;
    }

    public async Task InitializeAsync()
    {
        var (code, _, error) = await CliProcess.RunInProcessAsync("synth", "--preset", "tiny", "--out", ModelDirectory);
        Assert.True(code == 0, error);
        var lines = new List<string>();
        for (int i = 0; i < ValidItems; i++)
        {
            bool isUnsafe = i % 3 == 0;
            var item = new Dictionary<string, object> { ["id"] = $"q{i}", ["user"] = $"Question {i}: how do I {(isUnsafe ? "hurt" : "help")} someone?", ["label"] = isUnsafe ? "unsafe" : "safe" };
            if (i % 4 == 1)
            {
                item["agent"] = $"Answer {i}.";
            }
            if (isUnsafe)
            {
                item["categories"] = i % 2 == 0 ? new[] { "S1" } : new[] { "S1", "S10" };
            }
            lines.Add(JsonSerializer.Serialize(item));
            if (BadLines.Contains(lines.Count + 1))
            {
                lines.Add(lines.Count switch
                {
                    10 => "{\"id\": \"bad-label\", \"user\": \"x\", \"label\": \"perhaps\"}",
                    21 => "this is not JSON",
                    _ => "{\"id\": \"bad-key\", \"user\": \"x\", \"label\": \"safe\", \"colour\": \"red\"}",
                });
            }
        }
        await File.WriteAllLinesAsync(InputPath, lines);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _temp.Dispose();
}
