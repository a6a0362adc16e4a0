namespace LlamaGuardSharp.Model;

/// <summary>
/// The images of a request after the vision tower, projector and cross-attention K/V projections: everything the text
/// decoder needs from them. Immutable; can be reused by several prompts that show the same images in the same order
/// (e.g. prompt and response classification of one image) and shared between threads.
/// </summary>
/// <param name="Memory">Cross-attention keys/values of every cross-attention layer.</param>
/// <param name="NumTiles">Real tile count of each image (for the cross-attention mask).</param>
/// <param name="EncodingTime">Time the vision tower, projector and K/V projections took.</param>
internal sealed record EncodedImages(CrossAttentionMemory Memory, IReadOnlyList<int> NumTiles, TimeSpan EncodingTime)
{
    public int Count => NumTiles.Count;

    /// <summary>Hands the cross-attention memory back to the model's pool (<see cref="CrossAttentionMemory.Release"/>);
    /// for the owner that no longer needs the encoding.</summary>
    internal void Release() => Memory.Release();
}
