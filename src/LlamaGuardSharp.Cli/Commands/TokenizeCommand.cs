using System.CommandLine;
using System.Text;
using System.Text.Json;
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
        command.SetAction((parseResult, ct) =>
        {
            TextWriter output = parseResult.InvocationConfiguration.Output;
            TextWriter error = parseResult.InvocationConfiguration.Error;
            bool special = parseResult.GetValue(specialOption);
            try
            {
                Llama3Tokenizer tokenizer = Llama3Tokenizer.Load(parseResult.GetValue(tokenizerOption)!);
                // Strict UTF-8 and no BOM stripping: a leading U+FEFF is text and gets tokenized like any other character.
                using var input = new StreamReader(openInput(), new UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: false);
                return Task.FromResult(parseResult.GetValue(jsonlOption)
                    ? TokenizeJsonLines(tokenizer, input, special, output, error, ct)
                    : TokenizeWholeInput(tokenizer, input, special, output, error));
            }
            catch (TokenizerFormatException e)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }

    private static int TokenizeWholeInput(Llama3Tokenizer tokenizer, TextReader input, bool special, TextWriter output, TextWriter error)
    {
        string text;
        try
        {
            text = input.ReadToEnd();
        }
        catch (DecoderFallbackException e)
        {
            error.WriteLine($"error: stdin is not valid UTF-8 ({e.Message})");
            return 1;
        }
        try
        {
            output.WriteLine(FormatIds(tokenizer.Encode(text, special)));
            return 0;
        }
        catch (ArgumentException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static int TokenizeJsonLines(Llama3Tokenizer tokenizer, TextReader input, bool special, TextWriter output, TextWriter error,
        CancellationToken ct)
    {
        int lineNumber = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            string? line;
            try
            {
                line = input.ReadLine();
            }
            catch (DecoderFallbackException e)
            {
                error.WriteLine($"error: line {lineNumber + 1}: not valid UTF-8 ({e.Message})");
                return 1;
            }
            if (line is null)
            {
                return 0;
            }
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            try
            {
                string text = ReadTextField(line);
                output.WriteLine("{\"ids\":" + FormatIds(tokenizer.Encode(text, special)) + "}");
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException)
            {
                error.WriteLine($"error: line {lineNumber}: {e.Message}");
                return 1;
            }
        }
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
