using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// The image of one classification after the vision side: its encoding (from the model's image cache or encoded now),
/// the cache key of its bytes, and the time each part took. Disposing hands an encoding that the image cache did not
/// take back to the model's pool (<see cref="EncodedImages.Release"/>): the classification owns it until then.
/// </summary>
/// <param name="Encoded">The encoding; null for a text-only conversation.</param>
/// <param name="Key">SHA-256 of the image bytes (the image and prompt caches' key); null without an image.</param>
/// <param name="PreprocessTime">Decoding and preprocessing (or only hashing, for a cached encoding).</param>
/// <param name="VisionTime">Vision tower, projector and cross-attention K/V (zero for a cached encoding).</param>
/// <param name="Owned">Whether the classification owns <paramref name="Encoded"/> (the cache did not take it).</param>
internal sealed record PromptImage(EncodedImages? Encoded, string? Key, TimeSpan PreprocessTime, TimeSpan VisionTime, bool Owned) : IDisposable
{
    /// <summary>A conversation without an image.</summary>
    public static PromptImage None { get; } = new(null, null, TimeSpan.Zero, TimeSpan.Zero, false);

    public void Dispose()
    {
        if (Owned)
        {
            Encoded?.Release();
        }
    }
}
