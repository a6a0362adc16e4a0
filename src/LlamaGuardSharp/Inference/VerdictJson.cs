using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// The one JSON contract of a verdict (CLI <c>--json</c>, the service, the remote client): snake_case keys,
/// probabilities as numbers, times in seconds, generated at compile time from <see cref="SafetyVerdict"/>'s attributes.
/// Schema: <c>docs/verdict.schema.json</c>.
/// </summary>
/// <remarks>
/// Reading a verdict back keeps every field; a hazard category is read as its code and name (the description, which
/// only the prompt uses, is not part of the contract), and the category of a <c>category_probabilities</c> entry takes
/// its name from the verdict's <c>categories</c> or the default policy, else the code.
/// </remarks>
public static class VerdictJson
{
    /// <summary>Source-generated metadata for the verdict types; add it to a host's resolver chain
    /// (e.g. ASP.NET Core's <c>JsonSerializerOptions.TypeInfoResolverChain</c>).</summary>
    public static IJsonTypeInfoResolver TypeInfoResolver => VerdictJsonContext.Default;

    /// <summary>One line of JSON (non-ASCII text as is, not \u-escaped).</summary>
    public static string Serialize(SafetyVerdict verdict) =>
        JsonSerializer.Serialize(verdict, VerdictJsonContext.Relaxed.SafetyVerdict);

    /// <summary><c>{"prompt": …, "response": …}</c> on one line.</summary>
    public static string Serialize(ExchangeVerdicts verdicts) =>
        JsonSerializer.Serialize(verdicts, VerdictJsonContext.Relaxed.ExchangeVerdicts);

    /// <summary>Writes the verdict object at the writer's position (e.g. as a property value).</summary>
    public static void Write(Utf8JsonWriter writer, SafetyVerdict verdict) =>
        JsonSerializer.Serialize(writer, verdict, VerdictJsonContext.Relaxed.SafetyVerdict);

    /// <summary>Writes <c>{"prompt": …, "response": …}</c> at the writer's position; text is escaped as the writer's
    /// options say (with relaxed escaping, the text of <see cref="Serialize(ExchangeVerdicts)"/>).</summary>
    public static void Write(Utf8JsonWriter writer, ExchangeVerdicts verdicts) =>
        JsonSerializer.Serialize(writer, verdicts, VerdictJsonContext.Relaxed.ExchangeVerdicts);

    /// <exception cref="JsonException">The text is not a verdict object.</exception>
    public static SafetyVerdict Deserialize(string json) =>
        Fixup(JsonSerializer.Deserialize(json, VerdictJsonContext.Default.SafetyVerdict) ?? throw new JsonException("Expected a verdict object, got null."));

    /// <exception cref="JsonException">The element is not a verdict object.</exception>
    public static SafetyVerdict Deserialize(JsonElement element) =>
        Fixup(element.Deserialize(VerdictJsonContext.Default.SafetyVerdict) ?? throw new JsonException("Expected a verdict object, got null."));

    /// <exception cref="JsonException">The text is not a <c>{"prompt", "response"}</c> object.</exception>
    public static ExchangeVerdicts DeserializeExchange(string json)
    {
        var pair = JsonSerializer.Deserialize(json, VerdictJsonContext.Default.ExchangeVerdicts)
            ?? throw new JsonException("Expected {\"prompt\": …, \"response\": …}, got null.");
        if (pair.Prompt is null || pair.Response is null)
        {
            throw new JsonException("Expected both \"prompt\" and \"response\".");
        }
        return new ExchangeVerdicts(Fixup(pair.Prompt), Fixup(pair.Response));
    }

    /// <summary>Missing collections become empty and category-probability names come from the listed categories.</summary>
    private static SafetyVerdict Fixup(SafetyVerdict verdict)
    {
        if (verdict.RawOutput is null || verdict.Timings is null)
        {
            throw new JsonException("A verdict needs \"raw_output\" and \"timings_s\".");
        }
        var violated = verdict.ViolatedCategories ?? [];
        var probabilities = (verdict.CategoryProbabilities ?? []).Select(p =>
            violated.FirstOrDefault(c => c.Code == p.Category.Code) is { } named ? p with { Category = named } : p).ToArray();
        return verdict with
        {
            ViolatedCategories = violated,
            UnknownCodes = verdict.UnknownCodes ?? [],
            CategoryProbabilities = probabilities,
            OutputTokenIds = verdict.OutputTokenIds ?? [],
        };
    }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    Converters = [typeof(HazardCategoryJsonConverter)])]
[JsonSerializable(typeof(SafetyVerdict))]
[JsonSerializable(typeof(ExchangeVerdicts))]
internal sealed partial class VerdictJsonContext : JsonSerializerContext
{
    /// <summary>The generated metadata with relaxed escaping: the CLI has always printed text such as "é" or "&lt;" as is.</summary>
    internal static VerdictJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new HazardCategoryJsonConverter() },
    });
}

/// <summary>A hazard category as <c>{"code": "S1", "name": "Violent Crimes"}</c>.</summary>
internal sealed class HazardCategoryJsonConverter : JsonConverter<HazardCategory>
{
    public override HazardCategory Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("A category must be an object {\"code\", \"name\"}.");
        }
        string? code = null, name = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string property = reader.GetString()!;
            reader.Read();
            switch (property)
            {
                case "code": code = reader.GetString(); break;
                case "name": name = reader.GetString(); break;
                default: reader.Skip(); break;
            }
        }
        return CategoryJson.Create(code ?? throw new JsonException("A category needs a \"code\"."), name);
    }

    public override void Write(Utf8JsonWriter writer, HazardCategory value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("code", value.Code);
        writer.WriteString("name", value.Name);
        writer.WriteEndObject();
    }
}

/// <summary>Category probabilities as one object <c>{"S1": 0.7, "S2": 0.1, …}</c> in policy order.</summary>
internal sealed class CategoryProbabilitiesJsonConverter : JsonConverter<IReadOnlyList<CategoryProbability>>
{
    public override IReadOnlyList<CategoryProbability> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("\"category_probabilities\" must be an object {code: probability}.");
        }
        var list = new List<CategoryProbability>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            string code = reader.GetString()!;
            reader.Read();
            list.Add(new CategoryProbability(CategoryJson.Create(code, null), reader.GetDouble()));
        }
        return list;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<CategoryProbability> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var entry in value)
        {
            writer.WriteNumber(entry.Category.Code, entry.Probability);
        }
        writer.WriteEndObject();
    }
}

/// <summary>A time span as seconds (a number).</summary>
internal sealed class SecondsJsonConverter : JsonConverter<TimeSpan>
{
    /// <remarks>Rounded to the nearest tick: ticks / 1e7 written as a double and multiplied back can land just below the
    /// integer (867587 ticks → 0.0867587 s → 867586.99…), which truncation would turn into one tick less.</remarks>
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        TimeSpan.FromTicks(checked((long)Math.Round(reader.GetDouble() * TimeSpan.TicksPerSecond)));

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value.TotalSeconds);
}

file static class CategoryJson
{
    /// <summary>A category read back from JSON: the given name, else the default policy's, else the code.</summary>
    public static HazardCategory Create(string code, string? name)
    {
        try
        {
            return new HazardCategory(code, !string.IsNullOrWhiteSpace(name) ? name
                : SafetyPolicy.Default.TryGetCategory(code, out var known) ? known.Name : code);
        }
        catch (SafetyPolicyException e)
        {
            throw new JsonException(e.Message, e);
        }
    }
}
