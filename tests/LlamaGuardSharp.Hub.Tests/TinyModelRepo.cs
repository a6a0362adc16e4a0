using System.CommandLine;
using LlamaGuardSharp.Cli;

namespace LlamaGuardSharp.Hub.Tests;

/// <summary>
/// A tiny synthetic Llama Guard checkpoint (<c>llamaguard synth --preset tiny</c>, five ~0.2–8 MB shards plus index,
/// configs and the tokenizer) as the files of a Hub repository: safetensors, tokenizer.json and original/ stored with
/// LFS as on the real repository, the JSON configs as regular git files; plus Meta's <c>original/</c> checkpoint and a
/// README, which the default download leaves out. Written once per test class.
/// </summary>
public sealed class TinyModelRepo : IAsyncLifetime
{
    public const string RepoId = "test-org/Tiny-Guard";

    public const string CommitA = "1111111111111111111111111111111111111111";

    public const string CommitB = "2222222222222222222222222222222222222222";

    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"lgs-hub-tiny-{Guid.NewGuid():N}");

    public IReadOnlyList<FakeFile> Files { get; private set; } = [];

    /// <summary>The files the default download takes (not original/, not README.md, not .gitattributes).</summary>
    public IReadOnlyList<FakeFile> RuntimeFiles => [.. Files.Where(f => !f.Path.StartsWith("original/", StringComparison.Ordinal) && (f.Path.EndsWith(".json") || f.Path.EndsWith(".safetensors")))];

    public FakeFile File(string path) => Files.Single(f => f.Path == path);

    public FakeFile LargestShard => Files.Where(f => f.Path.EndsWith(".safetensors")).MaxBy(f => f.Content.Length)!;

    public async Task InitializeAsync()
    {
        var output = new StringWriter();
        int exit = await Program.BuildRootCommand().Parse(["synth", "--preset", "tiny", "--out", Folder, "--max-shard-bytes", "2000000"])
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = output });
        Assert.True(exit == 0, output.ToString());
        var files = Directory.GetFiles(Folder)
            .Select(p => new FakeFile(Path.GetFileName(p), System.IO.File.ReadAllBytes(p), lfs: p.EndsWith(".safetensors") || p.EndsWith("tokenizer.json")))
            .ToList();
        files.Add(new FakeFile("original/consolidated.pth", [.. Enumerable.Range(0, 5000).Select(i => (byte)i)], lfs: true));
        files.Add(new FakeFile("original/params.json", "{\"dim\": 64}"u8.ToArray(), lfs: false));
        files.Add(new FakeFile("README.md", "# Tiny Guard\n"u8.ToArray(), lfs: false));
        files.Add(new FakeFile(".gitattributes", "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"u8.ToArray(), lfs: false));
        Files = files;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }
}
