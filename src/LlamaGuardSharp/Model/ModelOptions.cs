using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Model;

/// <summary>
/// What text rows that see no image (tokens before the first <c>&lt;|image|&gt;</c>) get from a cross-attention layer
/// (spec §9 #1).
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

/// <summary>How a loaded model computes.</summary>
/// <param name="CrossAttentionMasking">Semantics for text rows that see no image; HF by default (goldens, Hub model behaviour).</param>
/// <param name="Compute">Thread count for the kernels; null = all cores.</param>
public sealed record ModelOptions(CrossAttentionMasking CrossAttentionMasking = CrossAttentionMasking.HuggingFace, ComputeContext? Compute = null)
{
    public static ModelOptions Default { get; } = new();
}
