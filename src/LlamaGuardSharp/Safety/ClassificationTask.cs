using System.Text.Json.Serialization;

namespace LlamaGuardSharp.Safety;

/// <summary>
/// What Llama Guard is asked to judge; it always judges the LAST turn (model card): the user's input when the
/// conversation ends with a User turn, the assistant's answer when it ends with an Agent turn.
/// JSON: <c>"prompt_classification"</c>, <c>"response_classification"</c>.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<ClassificationTask>))]
public enum ClassificationTask
{
    /// <summary>The last turn is the user's: is the user's request unsafe?</summary>
    [JsonStringEnumMemberName("prompt_classification")]
    PromptClassification,

    /// <summary>The last turn is the agent's: is the agent's response unsafe?</summary>
    [JsonStringEnumMemberName("response_classification")]
    ResponseClassification,
}
