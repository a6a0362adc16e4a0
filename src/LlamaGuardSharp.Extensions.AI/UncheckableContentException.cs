namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// Thrown by the guard middleware when the input holds content the guard cannot check (an image URI from a host not in
/// <see cref="LlamaGuardChatOptions.AllowedImageHosts"/>, an image that cannot be downloaded or is too large). The
/// request is not sent to the inner client: content that was not checked is not let through.
/// </summary>
public sealed class UncheckableContentException : Exception
{
    /// <summary>Creates the exception with a message naming the content and the reason.</summary>
    public UncheckableContentException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
