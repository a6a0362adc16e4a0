using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Tests.Infrastructure;

/// <summary>
/// The tests' shorthand for starting a session from preprocessed images: encode them (after checking the prompt's image
/// tokens, as the model does) and call the session's one <see cref="GenerationSession.Prefill"/>.
/// </summary>
internal static class GenerationSessionTestExtensions
{
    /// <summary>The logits of the prompt's last position.</summary>
    public static float[] Prefill(this GenerationSession session, ReadOnlySpan<int> ids, IReadOnlyList<VisionInput>? images) =>
        session.PrefillWithDraft(ids, DraftTree.Empty, images)[0];

    public static float[][] PrefillWithDraft(this GenerationSession session, ReadOnlySpan<int> ids, ReadOnlySpan<int> draft,
        IReadOnlyList<VisionInput>? images) =>
        session.PrefillWithDraft(ids, DraftTree.Chain(draft), images);

    public static float[][] PrefillWithDraft(this GenerationSession session, ReadOnlySpan<int> ids, DraftTree draft, IReadOnlyList<VisionInput>? images)
    {
        EncodedImages? encoded = null;
        if (images is { Count: > 0 })
        {
            session.Model.BuildCrossAttentionMask(ids, images);
            encoded = session.Model.EncodeImages(images);
        }
        return session.Prefill(ids, encoded, draft);
    }
}
