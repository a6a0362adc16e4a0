namespace LlamaGuardSharp.Imaging;

/// <summary>Thrown by <see cref="ImageDecoder"/> for any input it cannot turn into an RGB image.</summary>
public sealed class ImageDecodeException : Exception
{
    public ImageDecodeException(ImageDecodeFailure reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    public ImageDecodeException(ImageDecodeFailure reason, string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = reason;
    }

    public ImageDecodeFailure Reason { get; }
}
