using System.CommandLine;
using System.Text;
using System.Text.Json;
using LlamaGuardSharp.IO;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard tokenize --tokenizer PATH [--special] [--jsonl]</c>: token ids of stdin (one JSON array), or with <c>--jsonl</c>
/// one <c>{"ids":[...]}</c> line per <c>{"text":"..."}</c> input line (blank lines are skipped). Never adds BOS.
/// </summary>
public static class TokenizeCommand
{
    public static Command Create() => Create(Console.OpenStandardInput);

    /// <summary>Builds the command reading its input from <paramref name="openInput"/> (tests pass a <see cref="MemoryStream"/>).</summary>
    public static Command Create(Func<Stream> openInput)
    {
        var tokenizerOption = new Option<string>("--tokenizer")
        {
            Description = "tokenizer.json, tokenizer.model (tiktoken) or a model directory containing either.",
            Required = true,
        };
        var specialOption = new Option<bool>("--special")
        {
            Description = "Recognise special-token strings such as <|eot_id|> and <|image|> (otherwise they are plain text).",
        };
        var jsonlOption = new Option<bool>("--jsonl")
        {
            Description = "Read JSON lines {\"text\": \"...\"} and write one {\"ids\":[...]} line per input.",
        };
        var command = new Command("tokenize", "Print the Llama 3 token ids of stdin as JSON (no BOS added).")
        {
            tokenizerOption,
            specialOption,
            jsonlOption,
        };
        command.SetAction(async (parseResult, ct) =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            TextWriter error = parseResult.InvocationConfiguration.Error;
            bool special = parseResult.GetValue(specialOption);
            try
            {
                Llama3Tokenizer tokenizer = await Llama3Tokenizer.LoadAsync(parseResult.GetValue(tokenizerOption)!, ct);
                await using Stream input = openInput();
                return parseResult.GetValue(jsonlOption)
                    ? await TokenizeJsonLinesAsync(tokenizer, input, special, output, error, ct)
                    : await TokenizeWholeInputAsync(tokenizer, input, special, output, error, ct);
            }
            catch (Exception e) when (CliErrors.IsUserError(e))
            {
                return CliErrors.Report(error, e);
            }
        });
        return command;
    }

    /// <summary>Largest input line of <c>--jsonl</c> (docs/limits.md).</summary>
    internal const int MaxLineBytes = 16 << 20;

    private static async Task<int> TokenizeWholeInputAsync(Llama3Tokenizer tokenizer, Stream input, bool special, TextWriter output, TextWriter error,
        CancellationToken ct)
    {
        // Read at most the limit plus one byte: one more than the limit proves the input too long without holding it.
        long limit = BoundedFile.MaxTextBytes;
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        // WaitAsync: a blocked read from an idle pipe or terminal must not keep cancellation (SIGTERM) from ending the command.
        while ((read = await input.ReadAsync(chunk, ct).AsTask().WaitAsync(ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                return CliErrors.Report(error, $"stdin is larger than the limit of {BoundedFile.FormatBytes(limit)}");
            }
        }
        string text;
        try
        {
            // Strict UTF-8 and no BOM stripping: a leading U+FEFF is text and gets tokenized like any other character.
            text = new UTF8Encoding(false, true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (DecoderFallbackException e)
        {
            return CliErrors.Report(error, $"stdin is not valid UTF-8 ({e.Message})");
        }
        output.WriteLine(FormatIds(tokenizer.Encode(text, special)));
        return 0;
    }

    private static async Task<int> TokenizeJsonLinesAsync(Llama3Tokenizer tokenizer, Stream input, bool special, TextWriter output, TextWriter error,
        CancellationToken ct)
    {
        var reader = new BoundedLineReader(input, MaxLineBytes);
        while (await reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Error is not null)
            {
                return CliErrors.Report(error, $"line {line.Number}: {line.Error}");
            }
            if (string.IsNullOrWhiteSpace(line.Text))
            {
                continue;
            }
            try
            {
                string text = ReadTextField(line.Text);
                output.WriteLine("{\"ids\":" + FormatIds(tokenizer.Encode(text, special)) + "}");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException)
            {
                return CliErrors.Report(error, $"line {line.Number}: {e.Message}");
            }
        }
        return 0;
    }

    private static string ReadTextField(string line)
    {
        using JsonDocument document = JsonDocument.Parse(line);
        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("text", out JsonElement text) || text.ValueKind != JsonValueKind.String)
        {
            throw new FormatException("expected a JSON object with a string field \"text\"");
        }
        return text.GetString()!;
    }

    private static string FormatIds(int[] ids)
    {
        var builder = new StringBuilder(ids.Length * 7 + 2);
        builder.Append('[');
        for (int i = 0; i < ids.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(',');
            }
            builder.Append(ids[i]);
        }
        return builder.Append(']').ToString();
    }
}
