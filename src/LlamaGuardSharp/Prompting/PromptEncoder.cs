using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Prompting;

/// <summary>
/// Turns a rendered prompt into token ids without letting conversation text inject control tokens: skeleton control
/// tokens map to their ids, every text run is tokenized with special-token recognition OFF (docs/prompting.md).
/// For text without "&lt;|...|&gt;" strings the ids equal HF's (which also cuts at control tokens before BPE); no
/// extra BOS is added (the prompt already starts with <c>&lt;|begin_of_text|&gt;</c>).
/// </summary>
public static class PromptEncoder
{
    /// <exception cref="ArgumentException">the tokenizer lacks one of the prompt's control tokens, or a text run has a
    /// lone surrogate.</exception>
    public static int[] Encode(RenderedPrompt prompt, Llama3Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(tokenizer);

        var ids = new List<int>(prompt.Text.Length / 3 + 16);
        foreach (var segment in prompt.Segments)
        {
            if (segment.IsSpecialToken)
            {
                if (!tokenizer.TryGetSpecialTokenId(segment.Text, out int id))
                {
                    throw new ArgumentException(
                        $"The tokenizer {tokenizer.SourcePath} has no control token {segment.Text}; it is not a Llama 3.2 Vision tokenizer.",
                        nameof(tokenizer));
                }
                ids.Add(id);
            }
            else
            {
                ids.AddRange(tokenizer.Encode(segment.Text, recognizeSpecialTokens: false));
            }
        }
        return ids.ToArray();
    }
}
