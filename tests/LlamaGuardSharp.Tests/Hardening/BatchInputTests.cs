using System.Diagnostics;
using System.Text;
using System.Text.Json;
using LlamaGuardSharp.Tests.Inference;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Hardening;

/// <summary>
/// Families 1, 5 and 8 of issue 23 through <c>classify --input</c>: whatever is wrong with one line is that line's
/// error and every other line is still answered (1); unknown, repeated or misplaced keys and wrong types are errors
/// that name the key or the expected type (5); image paths confined by <c>--input-root</c> never leave it and the
/// error does not tell whether a file outside exists (8). Exit code 1 and one <c>error:</c> line when any line failed.
/// </summary>
public sealed class BatchInputTests(TinyGuardModelFixture fixture) : IClassFixture<TinyGuardModelFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"lgs-batch-{Guid.NewGuid():N}")).FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Good = """{"user": "How do I bake bread?"}""";

    private async Task<(int Code, JsonElement[] Results, string Error)> RunLinesAsync(IEnumerable<byte[]> lines, params string[] extra)
    {
        string file = Path.Combine(_dir, $"in-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllBytesAsync(file, lines.SelectMany(l => l.Concat("\n"u8.ToArray())).ToArray());
        var (code, output, error) = await CliRunner.RunAsync(["classify", "--model", fixture.Directory, "--input", file, "--max-new-tokens", "4", "--json", .. extra]);
        var results = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
        return (code, results, error);
    }

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Asserts good lines got verdicts, the bad ones errors containing the expected text, and the run's one error line.</summary>
    private static void AssertEachLineAnswered(int code, JsonElement[] results, string error, (int Line, string? Error)[] expected)
    {
        Assert.Equal(expected.Select(e => e.Line), results.Select(r => r.GetProperty("line").GetInt32()));
        foreach (var (result, (line, expectedError)) in results.Zip(expected))
        {
            if (expectedError is null)
            {
                Assert.True(result.TryGetProperty("verdict", out _), $"line {line}: {result}");
            }
            else
            {
                string message = result.GetProperty("error").GetString()!;
                Assert.True(message.Contains(expectedError, StringComparison.Ordinal), $"line {line}: '{message}' lacks '{expectedError}'");
                Assert.DoesNotContain('\n', message);
            }
        }
        int failed = expected.Count(e => e.Error is not null);
        Assert.Equal(failed == 0 ? 0 : 1, code);
        var errorLines = error.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToArray();
        Assert.Equal(failed == 0 ? 0 : 1, errorLines.Length);
        Assert.Contains($"{expected.Length - failed} classified, {failed} failed", error);
    }

    [Fact]
    public async Task Family1_a_line_that_throws_anything_is_that_lines_error_and_the_run_goes_on()
    {
        File.WriteAllBytes(Path.Combine(_dir, "broken.png"), [0x89, (byte)'P', (byte)'N', (byte)'G', 13, 10, 26, 10, 1, 2, 3]);
        var (code, results, error) = await RunLinesAsync(
        [
            Utf8("""{"user":"x \udc00 y"}"""),                   // lone low surrogate (threw InvalidOperationException)
            Utf8(Good),
            Utf8("""{"user":"x \ud800"}"""),                      // lone high surrogate at the end
            Utf8("""{"id":"\udc00","user":"x"}"""),               // in the id
            Utf8("""{"\udc00":"x"}"""),                           // in a key
            [(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)'}'], // not UTF-8
            Utf8("""{"user": "x", "image": "/dev/zero"}"""),
            Utf8("""{"user": "x", "image": "broken.png"}"""),
            Utf8("""{"user": "x", "image": "."}"""),
            Utf8("""{"user": "x", "image": "nothing-here.png"}"""),
            Utf8("[" + new string('[', 100_000) + "]"),           // deeper than the JSON reader allows
            Utf8(Good),
        ]);
        AssertEachLineAnswered(code, results, error,
        [
            (1, "not valid Unicode"), (2, null), (3, "not valid Unicode"), (4, "not valid Unicode"), (5, "a key is not valid Unicode"),
            (6, "not valid UTF-8"), (7, "character device"), (8, "PNG header"), (9, "is a directory"), (10, "not found"),
            (11, "not valid JSON"), (12, null),
        ]);
    }

    [Fact]
    public async Task Family1_an_overlong_line_is_skipped_without_being_held_and_the_next_is_read()
    {
        string file = Path.Combine(_dir, "long.jsonl");
        await using (var stream = File.Create(file))
        {
            await stream.WriteAsync(Utf8(Good + "\n"));
            await stream.WriteAsync(Utf8("{\"user\": \""));
            var chunk = Encoding.ASCII.GetBytes(new string('a', 1 << 20));
            for (int i = 0; i < 40; i++)
            {
                await stream.WriteAsync(chunk); // 40 MiB on one line, over the 1 MiB limit
            }
            await stream.WriteAsync(Utf8("\"}\n" + Good + "\n"));
        }
        var run = await CliProcess.RunAsync(TimeSpan.FromSeconds(120), null,
            "classify", "--model", fixture.Directory, "--input", file, "--max-new-tokens", "4", "--json");
        var results = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();
        AssertEachLineAnswered(run.ExitCode, results, run.Error, [(1, null), (2, "longer than the limit of 1,048,576 bytes"), (3, null)]);
        Assert.True(run.PeakRssBytes < 600L << 20, $"peak RSS {run.PeakRssBytes >> 20} MiB");
    }

    [Fact]
    public async Task Family1_a_closed_stdout_stops_a_batch_instead_of_classifying_into_the_void()
    {
        string file = Path.Combine(_dir, "many.jsonl");
        await File.WriteAllLinesAsync(file, Enumerable.Repeat(Good, 400));
        using var process = Process.Start(CliProcess.StartInfo("classify", "--model", fixture.Directory, "--input", file, "--max-new-tokens", "4"))!;
        var stderr = process.StandardError.ReadToEndAsync();
        string? first = await process.StandardOutput.ReadLineAsync();
        Assert.StartsWith("1: ", first);
        process.StandardOutput.Close();
        bool exited = process.WaitForExit(60_000);
        if (!exited)
        {
            process.Kill(entireProcessTree: true);
        }
        Assert.True(exited, "the batch went on after its reader closed stdout");
        Assert.NotEqual(0, process.ExitCode);
        string error = await stderr;
        Assert.Contains("error: standard output was closed", Assert.Single(error.Split('\n'), l => l.StartsWith("error:", StringComparison.Ordinal)));
        int classified = error.Split('\n').Count(l => l.StartsWith("line ", StringComparison.Ordinal));
        Assert.True(classified < 400, $"all {classified} lines were classified into a closed pipe");
    }

    [Fact]
    public async Task Family5_unknown_misplaced_and_repeated_keys_and_wrong_types_are_named()
    {
        File.Copy(TestData.Golden("images", "p_tiny_5x4.png"), Path.Combine(_dir, "a.png"));
        var (code, results, error) = await RunLinesAsync(
        [
            Utf8("""{"turns": [{"role": "user", "content": "Describe it.", "image": "a.png"}]}"""),
            Utf8("""{"turns": [{"role": "user", "content": "hi", "colour": "red"}]}"""),
            Utf8("""{"user": 5}"""),
            Utf8("""{"user": null}"""),
            Utf8("""{"user": "x", "agent": ["y"]}"""),
            Utf8("""{"user": "x", "id": {"a": 1}}"""),
            Utf8("""{"user": "x", "user": "y"}"""),
            Utf8("""{"user": "x", "image": 5}"""),
            Utf8("""{"turns": "user: hi"}"""),
            Utf8("""{"turns": [5]}"""),
            Utf8("""{"turns": [{"role": "user", "content": 7}]}"""),
            Utf8("""{"turns": [{"role": "system", "content": "x"}]}"""),
            Utf8("""{"User": "x"}"""),
            Utf8("""[{"user": "x"}]"""),
            Utf8("""{"turns": [{"role": "user", "content": "Describe it."}], "image": "a.png"}"""),
        ]);
        AssertEachLineAnswered(code, results, error,
        [
            (1, "turn 0: unknown key \"image\" (the image belongs at the top level"),
            (2, "turn 0: unknown key \"colour\""),
            (3, "\"user\" must be a string, not a number"),
            (4, "\"user\" must be a string, not null"),
            (5, "\"agent\" must be a string, not an array"),
            (6, "\"id\" must be a string or a number, not an object"),
            (7, "key \"user\" appears more than once"),
            (8, "\"image\" must be a string (a file path), not a number"),
            (9, "\"turns\" must be an array"),
            (10, "turn 0 must be an object"),
            (11, "turn 0's \"content\" must be a string, not a number"),
            (12, "turn 0 has role \"system\""),
            (13, "unknown key \"User\""),
            (14, "expected a JSON object, got an array"),
            (15, null),
        ]);
        Assert.True(results[^1].GetProperty("verdict").GetProperty("timings_s").GetProperty("vision").GetDouble() > 0); // the image was used
    }

    [Fact]
    public async Task Family8_input_root_confines_image_paths_and_does_not_reveal_files_outside()
    {
        string root = Directory.CreateDirectory(Path.Combine(_dir, "root")).FullName;
        Directory.CreateDirectory(Path.Combine(root, "img"));
        File.Copy(TestData.Golden("images", "p_tiny_5x4.png"), Path.Combine(root, "img", "a.png"));
        File.Copy(TestData.Golden("images", "p_tiny_5x4.png"), Path.Combine(_dir, "secret.png"));
        File.CreateSymbolicLink(Path.Combine(root, "img", "link.png"), Path.Combine(_dir, "secret.png"));
        File.CreateSymbolicLink(Path.Combine(root, "escape"), _dir);
        var (code, results, error) = await RunLinesAsync(
        [
            Utf8("""{"user": "x", "image": "img/a.png"}"""),
            Utf8("""{"user": "x", "image": "../secret.png"}"""),
            Utf8("""{"user": "x", "image": "../no-such.png"}"""),
            Utf8($$"""{"user": "x", "image": {{JsonSerializer.Serialize(Path.Combine(_dir, "secret.png"))}}}"""),
            Utf8("""{"user": "x", "image": "/etc/passwd"}"""),
            Utf8("""{"user": "x", "image": "img/link.png"}"""),
            Utf8("""{"user": "x", "image": "escape/secret.png"}"""),
            Utf8("""{"user": "x", "image": "img/../img/a.png"}"""),
            Utf8("""{"user": "x", "image": "img/missing.png"}"""),
        ], "--input-root", root);
        AssertEachLineAnswered(code, results, error,
        [
            (1, null), (2, "leaves the input root"), (3, "leaves the input root"), (4, "must be a relative path inside the input root"),
            (5, "must be a relative path inside the input root"), (6, "leads outside the input root"), (7, "leads outside the input root"),
            (8, null), (9, "not found under the input root"),
        ]);
        // An existing and a missing file outside the root get the same answer.
        Assert.Equal(results[1].GetProperty("error").GetString()!.Replace("secret", "X"), results[2].GetProperty("error").GetString()!.Replace("no-such", "X"));

        // Without --input-root the documented rule holds: relative to the input file's folder, absolute as given.
        var (plainCode, plain, _) = await RunLinesAsync([Utf8("""{"user": "x", "image": "secret.png"}""")]);
        Assert.Equal(0, plainCode);
        Assert.True(plain[0].TryGetProperty("verdict", out _));
    }

    [Fact]
    public void Family8_the_library_root_refuses_the_same_paths()
    {
        string root = Directory.CreateDirectory(Path.Combine(_dir, "lib-root")).FullName;
        File.WriteAllText(Path.Combine(root, "a.txt"), "a");
        var inputRoot = new LlamaGuardSharp.IO.InputRoot(root);
        Assert.Equal(Path.Combine(inputRoot.Directory, "a.txt"), inputRoot.Resolve("a.txt", "file"));
        foreach (string outside in new[] { "../x", "/etc/passwd", "a/../../x", "", "..", "a\0b" })
        {
            var e = Assert.Throws<LlamaGuardSharp.IO.InputFileException>(() => inputRoot.Resolve(outside, "file"));
            Assert.Equal(LlamaGuardSharp.IO.InputFileProblem.OutsideRoot, e.Problem);
        }
        Assert.Throws<FileNotFoundException>(() => inputRoot.Resolve("b.txt", "file"));
        Assert.Throws<FileNotFoundException>(() => new LlamaGuardSharp.IO.InputRoot(Path.Combine(_dir, "none")));
    }
}
