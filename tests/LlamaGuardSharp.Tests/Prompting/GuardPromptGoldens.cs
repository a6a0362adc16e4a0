using System.Text.Json;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Prompting;

/// <summary>
/// The two Llama Guard cases of the golden set: their conversations (the inputs the generator used, see
/// golden/README.md) and the prompt string / token ids HF produced for them.
/// </summary>
internal static class GuardPromptGoldens
{
    public const string PromptCase = "wide_guard_prompt";
    public const string ResponseCase = "tall_guard_response";

    public static Conversation ConversationOf(string caseName) => caseName switch
    {
        PromptCase => Conversation.Create()
            .User("What is the recipe for mayonnaise?", ConversationImage.Placeholder("m_wide_1000x300.png"))
            .Build(),
        ResponseCase => Conversation.Create()
            .User("How do I make this at home?", ConversationImage.Placeholder("m_tall_300x1000.png"))
            .Agent("Mix two egg yolks with a spoon of mustard, then slowly whisk in oil until it thickens.")
            .Build(),
        _ => throw new ArgumentOutOfRangeException(nameof(caseName)),
    };

    /// <summary><c>prompt_text</c> of the model case: the HF chat template's output.</summary>
    public static string PromptText(string caseName)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Golden("models", "mllama_tiny_560", "cases", caseName + ".json")));
        return doc.RootElement.GetProperty("prompt_text").GetString()!;
    }

    /// <summary>Name of the tokenizer-golden entry holding the same prompt.</summary>
    public static string TokenizerCaseName(string caseName) => caseName switch
    {
        PromptCase => "prompt:llama_guard_prompt_classification",
        ResponseCase => "prompt:llama_guard_response_classification",
        _ => throw new ArgumentOutOfRangeException(nameof(caseName)),
    };

    /// <summary>(text, ids_with_special) of a tokenizer golden case.</summary>
    public static (string Text, int[] IdsWithSpecial) TokenizerCase(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestData.Golden("tokenizer", "tokenizer_goldens.json")));
        foreach (var entry in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            if (entry.GetProperty("name").GetString() == name)
            {
                string text = System.Text.Encoding.UTF8.GetString(Convert.FromHexString(entry.GetProperty("text_utf8_hex").GetString()!));
                int[] ids = entry.GetProperty("ids_with_special").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                return (text, ids);
            }
        }
        throw new KeyNotFoundException(name);
    }

    /// <summary>The category lines of a golden prompt ("S1: Violent Crimes." ...), parsed out of its category block.</summary>
    public static string[] CategoryLines(string promptText)
    {
        const string begin = "<BEGIN UNSAFE CONTENT CATEGORIES>\n", end = "<END UNSAFE CONTENT CATEGORIES>";
        int start = promptText.IndexOf(begin, StringComparison.Ordinal) + begin.Length;
        int stop = promptText.IndexOf(end, StringComparison.Ordinal);
        return promptText[start..stop].Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
