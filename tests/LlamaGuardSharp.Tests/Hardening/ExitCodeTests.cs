using System.Diagnostics;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Hardening;

/// <summary>
/// Family 7 of issue 23: every user error — parse errors included — is exactly one <c>error:</c> line on stderr, nothing
/// on stdout (no help dump) and exit code 1; a folder given as a file says so.
/// </summary>
public sealed class ExitCodeTests
{
    public static TheoryData<string[], string> ParseErrors => new()
    {
        { [], "Required command was not provided" },
        { ["clasify"], "Unrecognized command or argument 'clasify'" },
        { ["classify", "--user", "x"], "Option '--model' is required" },
        { ["classify", "--model", "m", "--user", "x", "--bogus"], "Unrecognized command or argument '--bogus'" },
        { ["classify", "--model", "m", "--user", "x", "--layout", "neither"], "neither" },
        { ["preprocess"], "Option '--image' is required" },
        { ["preprocess", "--image"], "--image" },
        { ["synth", "--preset", "huge", "--out", "o"], "huge" },
        { ["tokenize"], "Option '--tokenizer' is required" },
        { ["prompt", "--user", "hi", "--ids"], "--ids needs --tokenizer" },
        { ["prompt", "--user"], "Required argument missing for option: '--user'" },
        { ["preprocess", "--image", "x.png", "--model", "m", "--tile-size", "56"], "not both" },
        { ["classify", "--model", "m", "--user", "x", "--input-root", "/tmp"], "--input-root confines" },
    };

    [Theory]
    [MemberData(nameof(ParseErrors))]
    public async Task Parse_and_usage_errors_are_one_line_on_stderr_with_exit_code_1(string[] args, string expected)
    {
        var (code, output, error) = await CliRunner.RunAsync(args);
        Assert.Equal(1, code);
        Assert.Equal("", output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_folder_given_as_a_file_is_named_as_a_folder()
    {
        string folder = Path.GetTempPath();
        foreach (var args in new[]
                 {
                     new[] { "preprocess", "--image", folder },
                     ["prompt", "--user", "hi", "--image", folder],
                     ["prompt", "--user", "hi", "--categories", folder],
                     ["classify", "--model", folder, "--user", "hi", "--image", folder],
                     ["classify", "--model", folder, "--input", folder],
                     ["generate", "--model", folder, "--prompt-file", folder],
                 })
        {
            var (code, output, error) = await CliRunner.RunAsync(args);
            Assert.Equal(1, code);
            Assert.Equal("", output);
            string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains("is a directory", line);
            Assert.DoesNotContain("denied", line);
        }
    }

    [Fact]
    public async Task A_file_given_as_the_model_folder_is_named_as_a_file()
    {
        var (code, output, error) = await CliRunner.RunAsync("classify", "--model", TestData.Golden("images", "p_tiny_5x4.png"), "--user", "hi");
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("is a file, expected a model folder", Assert.Single(error.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal)));
    }

    /// <summary>SIGTERM ends a command that waits for input that never comes (a FIFO without a writer, an idle stdin).</summary>
    [Fact]
    public void Sigterm_ends_a_command_waiting_on_a_pipe()
    {
        string dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"lgs-term-{Guid.NewGuid():N}")).FullName;
        try
        {
            string fifo = Path.Combine(dir, "input.fifo");
            using (var mkfifo = Process.Start("mkfifo", [fifo]))
            {
                mkfifo.WaitForExit();
            }
            foreach (var args in new[]
                     {
                         new[] { "classify", "--model", dir, "--input", fifo },
                         ["tokenize", "--tokenizer", TestData.Golden("tokenizer", "tokenizer.json")],
                         ["tokenize", "--tokenizer", TestData.Golden("tokenizer", "tokenizer.json"), "--jsonl"],
                     })
            {
                string shown = string.Join(' ', args);
                using var process = Process.Start(CliProcess.StartInfo(args))!; // stdin stays open and silent
                try
                {
                    // Wait until the command is waiting on its input: its cancellation handler is installed by then
                    // (a signal during runtime start-up is the runtime's default exit, not the command's).
                    var ready = Stopwatch.StartNew();
                    while (!WaitsOnInput(process.Id) && ready.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
                    {
                        Thread.Sleep(50);
                    }
                    if (process.HasExited)
                    {
                        Assert.Fail($"{shown} ended early: {process.StandardError.ReadToEnd()}");
                    }
                    Thread.Sleep(500);
                    using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!)
                    {
                        Assert.True(kill.WaitForExit(10_000));
                    }
                    Assert.True(process.WaitForExit(15_000), $"{shown} ignored SIGTERM");
                    Assert.Equal(130, process.ExitCode);
                    Assert.Equal("error: cancelled", Assert.Single(process.StandardError.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)));
                }
                finally
                {
                    if (!process.HasExited)
                    {
                        process.Kill(entireProcessTree: true);
                    }
                }
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Whether some thread of the process sleeps in a read or open (wchan is a pipe or FIFO wait).</summary>
    private static bool WaitsOnInput(int pid)
    {
        try
        {
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                string wchan = File.ReadAllText(Path.Combine(task, "wchan"));
                if (wchan.Contains("pipe", StringComparison.Ordinal) || wchan.Contains("fifo", StringComparison.Ordinal) || wchan.Contains("partner", StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }
        catch (IOException)
        {
        }
        return false;
    }

    [Fact]
    public async Task Help_still_goes_to_stdout_with_exit_code_0()
    {
        var (code, output, error) = await CliRunner.RunAsync("classify", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--input-root", output);
        Assert.Equal("", error);
    }

    [Fact]
    public async Task The_process_itself_prints_one_line_for_a_parse_error()
    {
        var run = await CliProcess.RunAsync(TimeSpan.FromSeconds(30), null, "preprocess", "--imag", "x");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("", run.Output);
        Assert.Equal("error: Unrecognized command or argument '--imag'; Unrecognized command or argument 'x'; Option '--image' is required (see llamaguard preprocess --help)",
            run.Error.TrimEnd('\n'));
    }

    /// <summary>A reader that goes away (EPIPE): the run stops at the next line, exits non-zero, and says why once.</summary>
    [Fact]
    public async Task A_closed_stdout_stops_the_run_promptly_with_a_non_zero_exit()
    {
        string input = string.Concat(Enumerable.Range(0, 200_000).Select(i => $$"""{"text": "line {{i}} of a long input"}""" + "\n"));
        using var process = Process.Start(CliProcess.StartInfo("tokenize", "--tokenizer", TestData.Golden("tokenizer", "tokenizer.json"), "--jsonl"))!;
        var stderr = process.StandardError.ReadToEndAsync();
        var feeding = Task.Run(async () =>
        {
            try
            {
                await process.StandardInput.WriteAsync(input);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // the child stopped reading: expected
            }
        });
        string? first = await process.StandardOutput.ReadLineAsync();
        Assert.StartsWith("{\"ids\":", first);
        var closed = Stopwatch.StartNew();
        process.StandardOutput.Close();
        bool exited = process.WaitForExit(15_000);
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
        }
        Assert.True(exited, "the command went on after its reader closed stdout");
        Assert.NotEqual(0, process.ExitCode);
        Assert.True(closed.Elapsed < TimeSpan.FromSeconds(15));
        string error = await stderr;
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("broken pipe", line);
        await feeding;
    }
}
