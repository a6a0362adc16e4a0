namespace LlamaGuardSharp.Prompting;

/// <summary>The Llama 3 control-token strings the Llama Guard prompt and output use (HF ids in the comments).</summary>
public static class PromptSpecialTokens
{
    /// <summary>128000.</summary>
    public const string BeginOfText = "<|begin_of_text|>";

    /// <summary>128001 (a stop token).</summary>
    public const string EndOfText = "<|end_of_text|>";

    /// <summary>128006.</summary>
    public const string StartHeader = "<|start_header_id|>";

    /// <summary>128007.</summary>
    public const string EndHeader = "<|end_header_id|>";

    /// <summary>128008 (a stop token).</summary>
    public const string EndOfMessage = "<|eom_id|>";

    /// <summary>128009, the normal end of the model's answer.</summary>
    public const string EndOfTurn = "<|eot_id|>";

    /// <summary>128256 in HF/model space.</summary>
    public const string Image = "<|image|>";
}
