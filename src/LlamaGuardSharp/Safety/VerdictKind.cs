using System.Text.Json.Serialization;

namespace LlamaGuardSharp.Safety;

/// <summary>What the model's answer says. JSON: <c>"safe"</c>, <c>"unsafe"</c>, <c>"unparseable"</c>.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<VerdictKind>))]
public enum VerdictKind
{
    /// <summary>The answer is exactly "safe".</summary>
    [JsonStringEnumMemberName("safe")]
    Safe,

    /// <summary>The answer is "unsafe" followed by a line of category codes.</summary>
    [JsonStringEnumMemberName("unsafe")]
    Unsafe,

    /// <summary>The answer does not follow the Llama Guard output grammar; see <see cref="ParsedVerdict.Problem"/>.</summary>
    [JsonStringEnumMemberName("unparseable")]
    Unparseable,
}
