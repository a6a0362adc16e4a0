namespace LlamaGuardSharp.Checkpoints;

/// <summary>
/// The two generations of Mllama tensor names. The code uses the legacy (transformers &lt; 4.52) names as canonical
/// names; a checkpoint saved by transformers ≥ 4.52 stores the same tensors under the modern prefixes.
/// </summary>
internal enum TensorNaming
{
    /// <summary><c>vision_model.*</c>, <c>language_model.model.*</c>, <c>language_model.lm_head.*</c>, <c>multi_modal_projector.*</c>.</summary>
    Legacy,

    /// <summary><c>model.vision_model.*</c>, <c>model.language_model.*</c>, <c>lm_head.*</c>, <c>model.multi_modal_projector.*</c>.</summary>
    Modern,
}

internal static class TensorNameMapping
{
    private static readonly (string Legacy, string Modern)[] Prefixes =
    [
        ("vision_model.", "model.vision_model."),
        ("language_model.model.", "model.language_model."),
        ("language_model.lm_head.", "lm_head."),
        ("multi_modal_projector.", "model.multi_modal_projector."),
    ];

    /// <summary>The stored name of canonical (legacy) name <paramref name="canonical"/> under <paramref name="naming"/>.</summary>
    public static string ToStored(string canonical, TensorNaming naming)
    {
        if (naming == TensorNaming.Legacy)
        {
            return canonical;
        }
        foreach (var (legacy, modern) in Prefixes)
        {
            if (canonical.StartsWith(legacy, StringComparison.Ordinal))
            {
                return modern + canonical[legacy.Length..];
            }
        }
        return canonical;
    }

    /// <summary>The canonical (legacy) name of a stored name, whatever its generation.</summary>
    public static string ToCanonical(string stored)
    {
        foreach (var (legacy, modern) in Prefixes)
        {
            if (stored.StartsWith(modern, StringComparison.Ordinal))
            {
                return legacy + stored[modern.Length..];
            }
        }
        return stored;
    }

    /// <summary>Detects the generation from a set of stored names (modern when any name has a modern prefix).</summary>
    public static TensorNaming Detect(IEnumerable<string> storedNames) =>
        storedNames.Any(n => n.StartsWith("model.", StringComparison.Ordinal) || n.StartsWith("lm_head.", StringComparison.Ordinal))
            ? TensorNaming.Modern
            : TensorNaming.Legacy;
}
