namespace LlamaGuardSharp.Imaging;

/// <summary>The container formats <see cref="ImageDecoder"/> accepts, recognised from their signature bytes.</summary>
public enum EncodedImageFormat
{
    Unknown,
    Jpeg,
    Png,
    WebP,
    Gif,
    Bmp,
}

/// <summary>Identifies the format from the first bytes, independent of the file name.</summary>
internal static class EncodedImageFormatSniffer
{
    public static EncodedImageFormat Sniff(ReadOnlySpan<byte> data)
    {
        if (data.Length >= 8 && data[..8].SequenceEqual(PngSignature))
        {
            return EncodedImageFormat.Png;
        }
        // SOI followed by a marker; two bytes alone are a JPEG cut right after SOI.
        if (data.Length >= 2 && data[0] == 0xFF && data[1] == 0xD8 && (data.Length == 2 || data[2] == 0xFF))
        {
            return EncodedImageFormat.Jpeg;
        }
        if (data.Length >= 6 && (data[..6].SequenceEqual("GIF87a"u8) || data[..6].SequenceEqual("GIF89a"u8)))
        {
            return EncodedImageFormat.Gif;
        }
        if (data.Length >= 12 && data[..4].SequenceEqual("RIFF"u8) && data[8..12].SequenceEqual("WEBP"u8))
        {
            return EncodedImageFormat.WebP;
        }
        if (data.Length >= 2 && data[0] == (byte)'B' && data[1] == (byte)'M')
        {
            return EncodedImageFormat.Bmp;
        }
        return EncodedImageFormat.Unknown;
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
}
