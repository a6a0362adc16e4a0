namespace LlamaGuardSharp.Model;

/// <summary>
/// What text rows that see no image (tokens before the first <c>&lt;|image|&gt;</c>) get from a cross-attention layer:
/// the reference implementations differ here (docs/model.md, "Cross-attention before the image").
/// </summary>
public enum CrossAttentionMasking
{
    /// <summary>
    /// transformers (4.45.2 and later): such rows attend unmasked to every vision token and the gated attention output is
    /// added; only the MLP output is zeroed. What the goldens and the HF pipeline compute.
    /// </summary>
    HuggingFace,

    /// <summary>Meta's reference and vLLM: both the attention output and the MLP output of such rows are zero.</summary>
    Meta,
}
