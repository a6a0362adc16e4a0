using System.Diagnostics;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.IO;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tests.Infrastructure;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Tests.Hardening;

/// <summary>
/// Family 2 of issue 23: every file the library reads whole (image, config, tokenizer, categories, prompt) goes through
/// <see cref="BoundedFile"/>: devices, FIFOs, directories and sparse multi-GB files are refused at once, with one clear
/// message, in bounded time and memory — in the library and through every CLI option that names such a file.
/// </summary>
public sealed class BoundedReadTests(HostileFiles files) : IClassFixture<HostileFiles>
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Library_readers_refuse_every_hostile_path_quickly()
    {
        var readers = new (string What, Func<string, Task> Read)[]
        {
            ("image", p => ConversationImage.FromFileAsync(p)),
            ("decoder", p => new ImageDecoder().DecodeFileAsync(p)),
            ("categories", p => SafetyPolicy.LoadAsync(p)),
            ("config", p => Task.Run(() => MllamaConfig.Load(p))),
            ("tokenizer", p => Llama3Tokenizer.LoadAsync(p)),
            ("text", p => BoundedFile.ReadAllTextAsync(p, BoundedFile.MaxTextBytes, "prompt file")),
        };
        foreach (var (what, read) in readers)
        {
            foreach (var (path, expected) in files.All)
            {
                if (what == "tokenizer" && path == files.SubFolder)
                {
                    continue; // a folder is a valid tokenizer argument (it is searched for tokenizer.json)
                }
                var stopwatch = Stopwatch.StartNew();
                var e = await Record.ExceptionAsync(() => read(path).WaitAsync(Quick));
                Assert.False(e is TimeoutException, $"{what} reader blocked on {path}");
                Assert.True(e is not null, $"{what} reader accepted {path}");
                Assert.Contains(expected, e.Message, StringComparison.Ordinal);
                Assert.Contains(path, e.Message, StringComparison.Ordinal);
                Assert.DoesNotContain('\n', e.Message);
                Assert.True(stopwatch.Elapsed < Quick, $"{what} took {stopwatch.Elapsed} on {path}");
            }
        }
    }

    [Fact]
    public void A_file_reporting_more_than_the_limit_is_refused_before_reading_and_a_file_at_the_limit_is_read()
    {
        // A sparse giant reports its size, so it is refused without a read; procfs files, which report 0, are the next test.
        var e = Assert.Throws<InputFileException>(() => BoundedFile.ReadAllBytes(files.Sparse, 1 << 20, "test file"));
        Assert.Equal(InputFileProblem.TooLarge, e.Problem);
        Assert.Contains("1 MiB", e.Message);

        string exact = Path.Combine(files.Folder, "exact.bin");
        File.WriteAllBytes(exact, new byte[1000]);
        Assert.Equal(1000, BoundedFile.ReadAllBytes(exact, 1000, "test file").Length);
        Assert.Equal(InputFileProblem.TooLarge, Assert.Throws<InputFileException>(() => BoundedFile.ReadAllBytes(exact, 999, "test file")).Problem);
        Assert.Equal(InputFileProblem.NotRegularFile,
            Assert.Throws<InputFileException>(() => BoundedFile.ReadAllBytes("/dev/zero", long.MaxValue, "test file")).Problem);
    }

    [Fact]
    public async Task A_regular_file_that_reports_size_zero_is_counted_while_reading()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        // procfs files are regular, report length 0 and hold more: only the count of bytes read can stop them.
        Assert.Equal(0, new FileInfo("/proc/self/status").Length);
        var sync = Assert.Throws<InputFileException>(() => BoundedFile.ReadAllBytes("/proc/self/status", 16, "test file"));
        Assert.Equal(InputFileProblem.TooLarge, sync.Problem);
        Assert.Contains("larger than the limit of 16 bytes", sync.Message);
        var async = await Assert.ThrowsAsync<InputFileException>(() => BoundedFile.ReadAllBytesAsync("/proc/self/status", 16, "test file"));
        Assert.Equal(sync.Message, async.Message);

        // Under a large limit the same kind of file is read whole, growing past the first buffer (smaps of a .NET
        // process is tens of KiB).
        string smaps = await BoundedFile.ReadAllTextAsync("/proc/self/smaps", BoundedFile.MaxTextBytes, "test file");
        Assert.True(smaps.Length > 4096, $"smaps is only {smaps.Length} characters");
        Assert.EndsWith("\n", smaps);
        Assert.Contains("Name:", BoundedFile.ReadAllText("/proc/self/status", BoundedFile.MaxTextBytes, "test file"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(4095)]
    [InlineData(4097)]
    [InlineData(100_000)]
    public async Task A_file_is_read_exactly_at_any_size_and_refused_one_byte_over_its_limit(int size)
    {
        string path = Path.Combine(files.Folder, $"sized-{size}.bin");
        byte[] content = [.. Enumerable.Range(0, size).Select(i => (byte)(i * 7))];
        File.WriteAllBytes(path, content);
        Assert.Equal(content, BoundedFile.ReadAllBytes(path, size, "test file"));
        Assert.Equal(content, await BoundedFile.ReadAllBytesAsync(path, long.MaxValue, "test file"));
        if (size > 0)
        {
            Assert.Equal(InputFileProblem.TooLarge, Assert.Throws<InputFileException>(() => BoundedFile.ReadAllBytes(path, size - 1, "test file")).Problem);
        }
    }

    [Fact]
    public async Task Cli_options_that_name_files_refuse_every_hostile_path_with_one_error_line_in_bounded_memory()
    {
        var commands = new Func<string, string[]>[]
        {
            p => ["preprocess", "--image", p],
            p => ["prompt", "--user", "hi", "--image", p],
            p => ["prompt", "--user", "hi", "--categories", p],
            p => ["prompt", "--user", "hi", "--ids", "--tokenizer", p],
            p => ["tokenize", "--tokenizer", p],
            p => ["classify", "--model", files.Folder, "--user", "hi", "--image", p],
            p => ["generate", "--model", files.Folder, "--prompt-file", p],
        };
        foreach (var command in commands)
        {
            foreach (var (path, expected) in files.All.Where(f => f.Path != files.SubFolder || !command(f.Path).Contains("--tokenizer")))
            {
                var args = command(path);
                var run = await CliProcess.RunAsync(TimeSpan.FromSeconds(30), "", args);
                string shown = string.Join(' ', args);
                Assert.False(run.TimedOut, $"{shown} hung");
                Assert.True(run.ExitCode == 1, $"{shown}: exit {run.ExitCode}\n{run.Error}");
                Assert.Single(run.ErrorLines);
                Assert.True(run.ErrorLines[0].Contains(expected, StringComparison.Ordinal), $"{shown}: {run.ErrorLines[0]}");
                Assert.Equal("", run.Output);
                Assert.True(run.PeakRssBytes < 400L << 20, $"{shown}: peak RSS {run.PeakRssBytes >> 20} MiB");
            }
        }
    }
}

/// <summary>Family 2 inside a model folder: config, tokenizer, index and weights that are devices, FIFOs or sparse giants.</summary>
public sealed class HostileModelFolderTests
{
    [Fact]
    public async Task Model_files_that_are_devices_fifos_or_sparse_giants_are_refused_with_one_error_line()
    {
        var cases = new (string File, string Kind, string Expected)[]
        {
            ("config.json", "/dev/zero", "character device"),
            ("config.json", "fifo", "named pipe"),
            ("config.json", "sparse", "larger than the limit"),
            ("tokenizer.json", "fifo", "named pipe"),
            ("tokenizer.json", "/dev/urandom", "character device"),
            ("tokenizer.json", "sparse", "larger than the limit"),
            ("preprocessor_config.json", "fifo", "named pipe"),
            ("generation_config.json", "/dev/zero", "character device"),
            ("model.safetensors", "fifo", "named pipe"),
            ("model.safetensors", "/dev/zero", "character device"),
        };
        foreach (var (file, kind, expected) in cases)
        {
            string dir = Path.Combine(Path.GetTempPath(), $"lgs-hostile-model-{Guid.NewGuid():N}");
            try
            {
                Inference.TinyGuardModelFixture.AssembleModelFolder("mllama_tiny_56", dir);
                string target = Path.Combine(dir, file);
                File.Delete(target);
                switch (kind)
                {
                    case "fifo":
                        using (var mkfifo = Process.Start("mkfifo", [target]))
                        {
                            mkfifo.WaitForExit();
                        }
                        break;
                    case "sparse":
                        using (var stream = File.Create(target))
                        {
                            stream.SetLength(5L << 30);
                        }
                        break;
                    default:
                        File.CreateSymbolicLink(target, kind);
                        break;
                }
                var run = await CliProcess.RunAsync(TimeSpan.FromSeconds(30), "", "classify", "--model", dir, "--user", "hi");
                string shown = $"{file} as {kind}";
                Assert.False(run.TimedOut, $"{shown}: hung");
                Assert.True(run.ExitCode == 1, $"{shown}: exit {run.ExitCode}\n{run.Error}");
                Assert.Single(run.ErrorLines);
                Assert.True(run.ErrorLines[0].Contains(expected, StringComparison.Ordinal), $"{shown}: {run.ErrorLines[0]}");
                Assert.Equal("", run.Output);
                Assert.True(run.PeakRssBytes < 400L << 20, $"{shown}: peak RSS {run.PeakRssBytes >> 20} MiB");
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}

/// <summary>Family 2 for standard input: <c>tokenize</c> reads at most its limit from a stream that never ends.</summary>
public sealed class BoundedStdinTests
{
    /// <summary>A stream of endless bytes without a newline, counting what was taken from it.</summary>
    private sealed class EndlessStream(byte value) : Stream
    {
        public long Served { get; private set; }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            buffer.AsSpan(offset, count).Fill(value);
            Served += count;
            return count;
        }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Theory]
    [InlineData(false, "stdin is larger than the limit of 16 MiB")]
    [InlineData(true, "line 1: the line is longer than the limit of 16,777,216 bytes")]
    public async Task An_endless_stdin_is_cut_at_the_limit(bool jsonl, string expected)
    {
        // Quotes without a newline: as JSON Lines it is one endless line, as text an endless input.
        var endless = new EndlessStream((byte)'"');
        var root = new System.CommandLine.RootCommand { LlamaGuardSharp.Cli.Commands.TokenizeCommand.Create(() => endless) };
        var output = new StringWriter();
        var error = new StringWriter();
        string[] args = jsonl
            ? ["tokenize", "--tokenizer", TestData.Golden("tokenizer", "tokenizer.json"), "--jsonl"]
            : ["tokenize", "--tokenizer", TestData.Golden("tokenizer", "tokenizer.json")];
        var run = root.Parse(args).InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(60))));
        Assert.Equal(1, await run);
        Assert.Equal("", output.ToString());
        Assert.Contains(expected, Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        // Only the limit (and one buffer) was read: the rest of an endless input is never touched.
        Assert.InRange(endless.Served, 16L << 20, (16L << 20) + (1 << 20));
    }
}
