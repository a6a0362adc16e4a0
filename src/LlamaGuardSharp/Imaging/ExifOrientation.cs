using SkiaSharp;

namespace LlamaGuardSharp.Imaging;

/// <summary>Applies an EXIF orientation to an RGB image (only used when <see cref="ImageDecoderOptions.ApplyExifOrientation"/> is on).</summary>
internal static class ExifOrientation
{
    public static RgbImage Apply(RgbImage image, SKEncodedOrigin origin)
    {
        if (origin is SKEncodedOrigin.TopLeft)
        {
            return image;
        }
        int w = image.Width;
        int h = image.Height;
        bool transposes = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int outW = transposes ? h : w;
        int outH = transposes ? w : h;
        var output = new byte[image.Pixels.Length];
        byte[] src = image.Pixels;
        for (int y = 0; y < outH; y++)
        {
            for (int x = 0; x < outW; x++)
            {
                // (sx, sy): the stored pixel displayed at (x, y). The EXIF value names where the stored row 0 / column 0 end up.
                (int sx, int sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                int d = (y * outW + x) * 3;
                int s = (sy * w + sx) * 3;
                output[d] = src[s];
                output[d + 1] = src[s + 1];
                output[d + 2] = src[s + 2];
            }
        }
        return new RgbImage(outW, outH, output);
    }
}
