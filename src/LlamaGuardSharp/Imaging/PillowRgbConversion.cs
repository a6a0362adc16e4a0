using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Imaging;

/// <summary>
/// The reference's colour conversion for non-RGB images (transformers' <c>convert_to_rgb</c>: RGBA, then
/// <c>Image.alpha_composite</c> over opaque white, then RGB), reproduced with Pillow's integer arithmetic so results are bit-exact.
/// </summary>
internal static class PillowRgbConversion
{
    /// <summary>
    /// One channel of Pillow's <c>alpha_composite(white, src)</c>. Pillow computes with 7 extra bits of precision and divides by 255
    /// with the shift trick <c>((v &gt;&gt; 8) + v) &gt;&gt; 8</c>; for an opaque white destination its weights reduce to
    /// <c>a·128</c> and <c>(255 − a)·128</c>. Alpha 0 copies the destination (white).
    /// </summary>
    public static byte CompositeOverWhite(byte value, byte alpha)
    {
        if (alpha == 0)
        {
            return 255;
        }
        const int precisionBits = 7;
        uint coefSrc = (uint)alpha << precisionBits;
        uint coefDst = (255u << precisionBits) - coefSrc;
        uint blended = value * coefSrc + 255u * coefDst + (0x80u << precisionBits);
        return (byte)((((blended >> 8) + blended) >> 8) >> precisionBits);
    }

    /// <summary>RGBA8888 (unpremultiplied) to RGB, compositing over white as above.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void CompositeRgbaOverWhite(ReadOnlySpan<byte> rgba, Span<byte> rgb)
    {
        int pixels = rgba.Length / 4;
        for (int i = 0; i < pixels; i++)
        {
            byte a = rgba[4 * i + 3];
            if (a == 255)
            {
                rgb[3 * i] = rgba[4 * i];
                rgb[3 * i + 1] = rgba[4 * i + 1];
                rgb[3 * i + 2] = rgba[4 * i + 2];
            }
            else
            {
                rgb[3 * i] = CompositeOverWhite(rgba[4 * i], a);
                rgb[3 * i + 1] = CompositeOverWhite(rgba[4 * i + 1], a);
                rgb[3 * i + 2] = CompositeOverWhite(rgba[4 * i + 2], a);
            }
        }
    }

    /// <summary>RGBA8888 to RGB ignoring alpha: Pillow opens these images as mode "RGB", which the reference passes through untouched.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void DropAlpha(ReadOnlySpan<byte> rgba, Span<byte> rgb)
    {
        int pixels = rgba.Length / 4;
        if (rgb.Length < pixels * 3)
        {
            throw new ArgumentException("RGB buffer too small.", nameof(rgb));
        }
        fixed (byte* src = rgba)
        fixed (byte* dst = rgb)
        {
            int i = 0;
            if (Ssse3.IsSupported)
            {
                // 4 RGBA pixels (16 bytes) -> 12 RGB bytes per shuffle; the 16-byte store's last 4 bytes are overwritten next round,
                // so stop while at least 4 bytes of room remain after the 12 written.
                Vector128<byte> pack = Vector128.Create((byte)0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0x80, 0x80, 0x80, 0x80);
                for (; i + 4 <= pixels && (i + 4) * 3 + 4 <= rgb.Length; i += 4)
                {
                    Ssse3.Shuffle(Sse2.LoadVector128(src + 4 * i), pack).Store(dst + 3 * i);
                }
            }
            for (; i < pixels; i++)
            {
                dst[3 * i] = src[4 * i];
                dst[3 * i + 1] = src[4 * i + 1];
                dst[3 * i + 2] = src[4 * i + 2];
            }
        }
    }

    /// <summary>
    /// 16-bit grayscale as Pillow 9.4 handles it: the image opens as mode "I" and <c>convert("RGBA")</c> clips each sample to
    /// 0..255 (so most mid-tones become white). A tRNS value is matched against the clipped value after Pillow packs it into an
    /// RGB word with overlapping shifts (<c>t | t&lt;&lt;8 | t&lt;&lt;16</c>): it matches grey <c>t &amp; 0xFF</c> only when the high
    /// byte adds no bits. Matching pixels get alpha 0 and therefore become white. Input: gray+alpha pairs from the relabelled PNG
    /// (gray = high byte, alpha = low byte).
    /// </summary>
    public static void Gray16AsPillow(ReadOnlySpan<byte> relabelledRgba, Span<byte> rgb, int? transparentValue)
    {
        int transparentGray = -1;
        if (transparentValue is int t)
        {
            int lo = t & 0xFF;
            int hi = (t >> 8) & 0xFF;
            if ((hi & ~lo) == 0)
            {
                transparentGray = lo;
            }
        }
        int pixels = relabelledRgba.Length / 4;
        for (int i = 0; i < pixels; i++)
        {
            int sample = (relabelledRgba[4 * i] << 8) | relabelledRgba[4 * i + 3];
            byte clipped = (byte)Math.Min(sample, 255);
            if (clipped == transparentGray)
            {
                clipped = 255;
            }
            rgb[3 * i] = clipped;
            rgb[3 * i + 1] = clipped;
            rgb[3 * i + 2] = clipped;
        }
    }
}
