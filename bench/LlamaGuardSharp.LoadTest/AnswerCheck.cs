using System.Text.Json;

namespace LlamaGuardSharp.LoadTest;

/// <summary>What a well-formed answer of <c>POST /v1/moderations</c> looks like (OpenAI's shape plus <c>llama_guard</c>).</summary>
public static class AnswerCheck
{
    public static readonly string[] OpenAiKeys =
    [
        "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent",
        "self-harm", "self-harm/intent", "self-harm/instructions", "sexual", "sexual/minors", "violence", "violence/graphic",
    ];

    /// <summary>Null when <paramref name="body"/> is a well-formed moderation answer with one result, else what is wrong.</summary>
    public static string? Moderation(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.GetProperty("id").GetString() is not { } id || !id.StartsWith("modr-", StringComparison.Ordinal))
            {
                return "id is not modr-…";
            }
            if (root.GetProperty("model").ValueKind != JsonValueKind.String)
            {
                return "model is not a string";
            }
            var results = root.GetProperty("results");
            if (results.GetArrayLength() != 1)
            {
                return $"expected 1 result, got {results.GetArrayLength()}";
            }
            var result = results[0];
            bool flagged = result.GetProperty("flagged").GetBoolean();
            var categories = result.GetProperty("categories");
            var scores = result.GetProperty("category_scores");
            var applied = result.GetProperty("category_applied_input_types");
            foreach (string key in OpenAiKeys)
            {
                bool keyFlagged = categories.GetProperty(key).GetBoolean();
                double score = scores.GetProperty(key).GetDouble();
                if (score is < 0 or > 1 || double.IsNaN(score))
                {
                    return $"score of {key} out of [0, 1]: {score}";
                }
                if (keyFlagged && !flagged)
                {
                    return $"{key} flagged in a result that is not";
                }
                if (applied.GetProperty(key).ValueKind != JsonValueKind.Array)
                {
                    return $"category_applied_input_types.{key} is not an array";
                }
            }
            var verdict = result.GetProperty("llama_guard");
            if (verdict.GetProperty("verdict").GetString() is not ("safe" or "unsafe" or "unparseable"))
            {
                return "llama_guard.verdict is not safe|unsafe|unparseable";
            }
            double pUnsafe = verdict.GetProperty("unsafe_probability").GetDouble();
            return pUnsafe is < 0 or > 1 ? "llama_guard.unsafe_probability out of [0, 1]" : null;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return "not the expected JSON: " + e.Message;
        }
    }

    /// <summary>Null when <paramref name="body"/> is OpenAI's error envelope of type <paramref name="type"/>.</summary>
    public static string? Error(string body, string type)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var error = document.RootElement.GetProperty("error");
            return error.GetProperty("type").GetString() == type && error.GetProperty("message").ValueKind == JsonValueKind.String
                ? null : $"error envelope without type {type}";
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "not an error envelope: " + e.Message;
        }
    }
}
