using System.Text.Json;

namespace LlamaGuardSharp.Safety;

/// <summary>
/// Reads the custom category table format (docs/safety-policy.md):
/// <c>{"categories": [{"code": "S1", "name": "Violent Crimes", "description": "Violent Crimes."}, ...]}</c>.
/// Strict on purpose: unknown properties are errors, so a typo ("desciption") cannot silently change the prompt.
/// </summary>
internal static class SafetyPolicyJson
{
    private static readonly JsonDocumentOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static List<HazardCategory> ParseCategories(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, Options);
        }
        catch (JsonException e)
        {
            throw Malformed($"not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Malformed($"the top level must be an object with a \"categories\" array, not {Describe(root.ValueKind)}");
            }

            JsonElement? list = null;
            foreach (var property in root.EnumerateObject())
            {
                if (property.NameEquals("categories"))
                {
                    list = property.Value;
                }
                else
                {
                    throw Malformed($"unknown top-level property \"{property.Name}\" (expected only \"categories\")");
                }
            }
            if (list is not { ValueKind: JsonValueKind.Array } array)
            {
                throw Malformed(list is null
                    ? "missing the \"categories\" array"
                    : $"\"categories\" must be an array, not {Describe(list.Value.ValueKind)}");
            }

            var categories = new List<HazardCategory>();
            int index = 0;
            foreach (var item in array.EnumerateArray())
            {
                categories.Add(ParseCategory(item, index++));
            }
            return categories;
        }
    }

    private static HazardCategory ParseCategory(JsonElement item, int index)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw Malformed($"categories[{index}] must be an object, not {Describe(item.ValueKind)}");
        }

        string? code = null, name = null, description = null;
        foreach (var property in item.EnumerateObject())
        {
            string value = property.Value.ValueKind == JsonValueKind.String
                ? property.Value.GetString()!
                : throw Malformed($"categories[{index}].{property.Name} must be a string, not {Describe(property.Value.ValueKind)}");
            switch (property.Name)
            {
                case "code": code = value; break;
                case "name": name = value; break;
                case "description": description = value; break;
                default:
                    throw Malformed($"categories[{index}] has unknown property \"{property.Name}\" (expected code, name, description)");
            }
        }

        if (code is null)
        {
            throw Malformed($"categories[{index}] has no \"code\"");
        }
        if (name is null)
        {
            throw new SafetyPolicyException(SafetyPolicyProblem.InvalidCategory, $"categories[{index}] ({code}) has no \"name\".");
        }
        return new HazardCategory(code, name, description);
    }

    /// <summary>A JSON value's kind as an error message names it ("an object", "a string", …); shared with the CLI's input lines.</summary>
    internal static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static SafetyPolicyException Malformed(string what, Exception? inner = null) =>
        new(SafetyPolicyProblem.MalformedJson, "Invalid safety policy JSON: " + what + ".", inner);
}
