using LlamaGuardSharp.Imaging;
using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Safety;

/// <summary>
/// The image attached to a conversation: the encoded file bytes (PNG, JPEG, ...; decoding is the image
/// preprocessor's job) and an optional name for messages. Immutable: the bytes are copied on creation.
/// </summary>
public sealed class ConversationImage
{
    private ConversationImage(ReadOnlyMemory<byte> encodedBytes, string? sourceName)
    {
        EncodedBytes = encodedBytes;
        SourceName = sourceName;
    }

    /// <summary>The encoded image file; empty only for a <see cref="Placeholder"/>.</summary>
    public ReadOnlyMemory<byte> EncodedBytes { get; }

    /// <summary>Where the image came from (file name, URL, ...), for messages only; may be null.</summary>
    public string? SourceName { get; }

    /// <summary>
    /// True for an image that only marks where <c>&lt;|image|&gt;</c> goes in a prompt (e.g. <c>llamaguard prompt
    /// --image</c>). Rendering a prompt needs no pixels; classifying does, so pipelines must reject placeholders.
    /// </summary>
    public bool IsPlaceholder => EncodedBytes.IsEmpty;

    /// <summary>An image from encoded bytes (copied, so later changes to the caller's buffer cannot leak in).</summary>
    /// <exception cref="ConversationException">the bytes are empty.</exception>
    public static ConversationImage FromBytes(ReadOnlyMemory<byte> encodedBytes, string? sourceName = null)
    {
        if (encodedBytes.IsEmpty)
        {
            throw new ConversationException(ConversationProblem.EmptyImage,
                $"The image {(sourceName is null ? "" : $"'{sourceName}' ")}has no bytes.");
        }
        return new ConversationImage(encodedBytes.ToArray(), sourceName);
    }

    /// <summary>
    /// Reads an encoded image file of at most <see cref="ImageDecoderOptions.MaxEncodedBytes"/>'s default (20 MiB);
    /// <see cref="SourceName"/> is the path.
    /// </summary>
    /// <exception cref="ConversationException">the file is empty.</exception>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="InputFileException">not a regular file (directory, FIFO, device), larger than the limit, or unreadable.</exception>
    public static Task<ConversationImage> FromFileAsync(string path, CancellationToken cancellationToken = default) =>
        FromFileAsync(path, DefaultMaxFileBytes, cancellationToken);

    /// <summary>Reads an encoded image file of at most <paramref name="maxBytes"/> bytes (see <see cref="FromFileAsync(string, CancellationToken)"/>).</summary>
    public static async Task<ConversationImage> FromFileAsync(string path, long maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        byte[] bytes = await BoundedFile.ReadAllBytesAsync(path, maxBytes, "image file", cancellationToken).ConfigureAwait(false);
        return FromBytes(bytes, path);
    }

    private static readonly long DefaultMaxFileBytes = new ImageDecoderOptions().MaxEncodedBytes;

    /// <summary>A marker without pixels, for rendering prompts only (see <see cref="IsPlaceholder"/>).</summary>
    public static ConversationImage Placeholder(string? sourceName = null) => new(ReadOnlyMemory<byte>.Empty, sourceName);

    public override string ToString() =>
        IsPlaceholder ? $"image placeholder {SourceName}".TrimEnd() : $"image {SourceName ?? "(bytes)"} ({EncodedBytes.Length} bytes)";
}
