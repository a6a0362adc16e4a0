using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LlamaGuardSharp.Evaluation;

/// <summary>A line of a results file that was skipped, and why.</summary>
public sealed record ResultsProblem(int Line, string Message);

/// <summary>What <see cref="ResultsFile.ReadAsync"/> found: the items (first occurrence of each id) and the skipped lines.</summary>
/// <param name="Items">The valid items in file order.</param>
/// <param name="Problems">Lines skipped: not a result, or an id seen before.</param>
/// <param name="TornLineRepaired">The file ended in a partial line (a run killed while writing it), now cut off.</param>
public sealed record ResultsFileContents(IReadOnlyList<EvaluationItem> Items, IReadOnlyList<ResultsProblem> Problems, bool TornLineRepaired);

/// <summary>
/// <c>results.jsonl</c>: one JSON object per evaluated item,
/// <c>{"id", "label", "p_unsafe", "verdict", "predicted_categories", "categories", "category_probabilities", "task", "seconds"}</c>.
/// Lines are appended whole and flushed one at a time, so a killed run leaves complete lines and at most one partial
/// last line, which <see cref="ReadAsync"/> cuts off when asked to repair.
/// </summary>
public static class ResultsFile
{
    /// <summary>
    /// Reads a results file. Bad lines and repeated ids are reported in <see cref="ResultsFileContents.Problems"/> and
    /// skipped. A last line without its newline is a torn write: with <paramref name="repair"/> the file is truncated
    /// to the end of the last complete line (it is re-evaluated on resume); without, it is only skipped.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static async Task<ResultsFileContents> ReadAsync(string path, bool repair, CancellationToken cancellationToken = default)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The results file {path} does not exist.", path);
        }
        byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        int completeLength = bytes.Length;
        bool torn = false;
        if (bytes.Length > 0 && bytes[^1] != (byte)'\n')
        {
            completeLength = Array.LastIndexOf(bytes, (byte)'\n') + 1;
            torn = true;
        }
        var items = new List<EvaluationItem>();
        var problems = new List<ResultsProblem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string text = Encoding.UTF8.GetString(bytes, 0, completeLength);
        int lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            try
            {
                var item = ParseLine(line);
                if (!seen.Add(item.Id))
                {
                    problems.Add(new ResultsProblem(lineNumber, $"id \"{item.Id}\" appears again; the first occurrence is kept"));
                    continue;
                }
                items.Add(item);
            }
            catch (FormatException e)
            {
                problems.Add(new ResultsProblem(lineNumber, e.Message));
            }
        }
        if (torn)
        {
            if (repair)
            {
                await using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
                stream.SetLength(completeLength);
            }
            else
            {
                problems.Add(new ResultsProblem(lineNumber, "the last line is incomplete (a run stopped while writing it); skipped"));
            }
        }
        return new ResultsFileContents(items, problems, torn && repair);
    }

    /// <summary>Parses one results line.</summary>
    /// <exception cref="FormatException">The line is not a result; the message names the field.</exception>
    public static EvaluationItem ParseLine(string line)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new FormatException($"not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("expected a JSON object");
            }
            string id = root.TryGetProperty("id", out var idElement) ? idElement.ValueKind switch
            {
                JsonValueKind.String when idElement.GetString() is { Length: > 0 } s => s,
                JsonValueKind.Number => idElement.GetRawText(),
                _ => throw new FormatException("\"id\" must be a non-empty string or a number"),
            } : throw new FormatException("missing \"id\"");
            bool label = root.TryGetProperty("label", out var labelElement)
                ? ParseLabel(labelElement)
                : throw new FormatException("missing \"label\" (\"safe\" or \"unsafe\")");
            double p = root.TryGetProperty("p_unsafe", out var pElement) && pElement.ValueKind == JsonValueKind.Number
                ? pElement.GetDouble()
                : throw new FormatException("missing \"p_unsafe\" (a number in [0, 1])");
            if (!(p >= 0 && p <= 1))
            {
                throw new FormatException($"\"p_unsafe\" is {p.ToString(CultureInfo.InvariantCulture)}, outside [0, 1]");
            }
            string? verdict = OptionalString(root, "verdict");
            if (verdict is not (null or EvaluationVerdicts.Safe or EvaluationVerdicts.Unsafe or EvaluationVerdicts.Unparseable))
            {
                throw new FormatException($"\"verdict\" is \"{verdict}\" (expected \"safe\", \"unsafe\" or \"unparseable\")");
            }
            string? task = OptionalString(root, "task") switch
            {
                null => null,
                "prompt" or "prompt_classification" => EvaluationVerdicts.PromptTask,
                "response" or "response_classification" => EvaluationVerdicts.ResponseTask,
                var other => throw new FormatException($"\"task\" is \"{other}\" (expected \"prompt\" or \"response\")"),
            };
            double? seconds = root.TryGetProperty("seconds", out var secondsElement) && secondsElement.ValueKind == JsonValueKind.Number ? secondsElement.GetDouble() : null;
            return new EvaluationItem(id, label, p, verdict,
                OptionalCodes(root, "predicted_categories"), OptionalCodes(root, "categories"),
                OptionalProbabilities(root, "category_probabilities"), task, seconds);
        }
    }

    /// <summary>The label: <c>"safe"</c>/<c>"unsafe"</c>, or as other engines write it, <c>false</c>/<c>true</c> or <c>0</c>/<c>1</c>.</summary>
    public static bool ParseLabel(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String when element.GetString() == "unsafe" => true,
        JsonValueKind.String when element.GetString() == "safe" => false,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number when element.GetRawText() == "1" => true,
        JsonValueKind.Number when element.GetRawText() == "0" => false,
        _ => throw new FormatException($"\"label\" is {element.GetRawText()} (expected \"safe\" or \"unsafe\")"),
    };

    /// <summary>The category codes under <paramref name="name"/> (distinct, in order), or null when absent or JSON null.</summary>
    /// <exception cref="FormatException">Not an array of non-empty strings.</exception>
    public static IReadOnlyList<string>? OptionalCodes(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"\"{name}\" must be an array of category codes such as [\"S1\"]");
        }
        var codes = new List<string>();
        foreach (var code in element.EnumerateArray())
        {
            if (code.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(code.GetString()))
            {
                throw new FormatException($"\"{name}\" must be an array of category codes such as [\"S1\"]");
            }
            codes.Add(code.GetString()!.Trim());
        }
        return codes.Distinct(StringComparer.Ordinal).ToArray();
    }

    private static IReadOnlyDictionary<string, double>? OptionalProbabilities(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException($"\"{name}\" must be an object {{\"S1\": probability, …}}");
        }
        var map = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            map[property.Name] = property.Value.ValueKind == JsonValueKind.Number
                ? property.Value.GetDouble()
                : throw new FormatException($"\"{name}\".\"{property.Name}\" must be a number");
        }
        return map;
    }

    private static string? OptionalString(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return element.ValueKind == JsonValueKind.String ? element.GetString() : throw new FormatException($"\"{name}\" must be a string");
    }

    /// <summary>The results line of <paramref name="item"/> (no newline), fields in the documented order.</summary>
    public static string FormatLine(EvaluationItem item)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("id", item.Id);
            json.WriteString("label", item.IsUnsafe ? "unsafe" : "safe");
            json.WriteNumber("p_unsafe", item.UnsafeProbability);
            WriteStringOrNull(json, "verdict", item.Verdict);
            WriteCodes(json, "predicted_categories", item.PredictedCategories);
            WriteCodes(json, "categories", item.Categories);
            if (item.CategoryProbabilities is { } probabilities)
            {
                json.WriteStartObject("category_probabilities");
                foreach (var (code, probability) in probabilities)
                {
                    json.WriteNumber(code, probability);
                }
                json.WriteEndObject();
            }
            else
            {
                json.WriteNull("category_probabilities");
            }
            WriteStringOrNull(json, "task", item.Task);
            if (item.Seconds is { } seconds) json.WriteNumber("seconds", Math.Round(seconds, 4)); else json.WriteNull("seconds");
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteStringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null) json.WriteNull(name); else json.WriteString(name, value);
    }

    private static void WriteCodes(Utf8JsonWriter json, string name, IReadOnlyList<string>? codes)
    {
        if (codes is null)
        {
            json.WriteNull(name);
            return;
        }
        json.WriteStartArray(name);
        foreach (var code in codes) json.WriteStringValue(code);
        json.WriteEndArray();
    }
}

/// <summary>
/// Appends results lines: each line is written whole with its newline in one write and flushed to the operating
/// system before <see cref="AppendAsync"/> returns, so killing the process loses at most the item being classified.
/// </summary>
public sealed class ResultsWriter : IAsyncDisposable
{
    private readonly FileStream _stream;

    /// <summary>Opens <paramref name="path"/> for appending (created if missing).</summary>
    public ResultsWriter(string path)
    {
        _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 1, FileOptions.Asynchronous);
    }

    /// <summary>Appends and flushes one item.</summary>
    public async Task AppendAsync(EvaluationItem item, CancellationToken cancellationToken = default)
    {
        byte[] line = Encoding.UTF8.GetBytes(ResultsFile.FormatLine(item) + "\n");
        // Not cancellable mid-line: a line is either written whole or not at all.
        await _stream.WriteAsync(line, CancellationToken.None);
        await _stream.FlushAsync(CancellationToken.None);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
