using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Imaging;

/// <summary>
/// Bit-exact port of the arithmetic of Pillow 9.4's <c>Image.resize(size, BILINEAR)</c> for 8-bit images
/// (<c>libImaging/Resample.c</c>): separable two-pass convolution with a triangle filter whose support widens with the scale when
/// downscaling (antialiasing), double-precision weights normalised per output sample and converted to 22-bit fixed point, an
/// 8-bit intermediate image after the horizontal pass, and clipping to 0..255. Written from the algorithm's description;
/// every step that affects rounding follows Pillow's order of operations.
/// </summary>
internal static class PillowBilinear
{
    /// <summary>Pillow's <c>PRECISION_BITS</c> = 32 − 8 − 2: weights sum to 2^22, so 255·2^22 plus the rounding bias fits in an int32.</summary>
    private const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Fixed-point weights for one axis: output sample i reads <c>Count[i]</c> inputs from <c>First[i]</c> with weights at <c>i·KernelSize</c>.</summary>
    internal sealed class AxisWeights(int kernelSize, int[] first, int[] count, int[] weights)
    {
        private int[]? _pairedRgb;

        public int KernelSize { get; } = kernelSize;

        public int[] First { get; } = first;

        public int[] Count { get; } = count;

        public int[] Weights { get; } = weights;

        /// <summary>Taps per output grouped in pairs, each pair as 8 ints: k(2p) three times, k(2p+1) three times, 0, 0 (zero past the kernel).</summary>
        public int PairsPerOutput => (KernelSize + 1) / 2;

        /// <summary>The weights laid out for <see cref="PillowBilinear"/>'s AVX2 loop, built on first use.</summary>
        public int[] PairedRgb => _pairedRgb ??= BuildPairedRgb();

        private int[] BuildPairedRgb()
        {
            int pairs = PairsPerOutput;
            var paired = new int[First.Length * pairs * 8];
            for (int i = 0; i < First.Length; i++)
            {
                for (int t = 0; t < KernelSize; t++)
                {
                    int baseIndex = (i * pairs + t / 2) * 8 + (t % 2) * 3;
                    int k = Weights[i * KernelSize + t];
                    paired[baseIndex] = k;
                    paired[baseIndex + 1] = k;
                    paired[baseIndex + 2] = k;
                }
            }
            return paired;
        }
    }

    /// <summary>Resizes packed RGB (3 bytes per pixel). Returns the input array itself when the size is unchanged, as Pillow copies.</summary>
    public static byte[] ResizeRgb(byte[] rgb, int inWidth, int inHeight, int outWidth, int outHeight)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inHeight);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outHeight);
        if (rgb.LongLength != (long)inWidth * inHeight * 3)
        {
            throw new ArgumentException("RGB buffer size does not match the given dimensions.", nameof(rgb));
        }
        const int channels = 3;
        bool needHorizontal = outWidth != inWidth;
        bool needVertical = outHeight != inHeight;
        if (!needHorizontal && !needVertical)
        {
            return rgb;
        }

        AxisWeights horizontal = Precompute(inWidth, outWidth);
        AxisWeights vertical = Precompute(inHeight, outHeight);

        byte[] source = rgb;
        int sourceWidth = inWidth;
        int rowOffset = 0;
        if (needHorizontal)
        {
            // Only the input rows the vertical pass will read are resampled horizontally (as Pillow does); the vertical pass then
            // addresses this band with its row bounds shifted by the first used row.
            int firstRow = vertical.First[0];
            int lastRow = vertical.First[outHeight - 1] + vertical.Count[outHeight - 1];
            if (!needVertical)
            {
                firstRow = 0;
                lastRow = inHeight;
            }
            var band = new byte[(long)outWidth * (lastRow - firstRow) * channels];
            ResampleHorizontal(rgb, inWidth, firstRow, lastRow, band, outWidth, horizontal);
            source = band;
            sourceWidth = outWidth;
            rowOffset = firstRow;
        }
        if (!needVertical)
        {
            return source;
        }
        var output = new byte[(long)sourceWidth * outHeight * channels];
        ResampleVertical(source, sourceWidth, rowOffset, output, outHeight, vertical);
        return output;
    }

    /// <summary>
    /// Pillow's <c>precompute_coeffs</c> for the whole-image box followed by <c>normalize_coeffs_8bpc</c>: the centre of output
    /// sample i is (i + ½)·scale, the taps span centre ± support rounded by truncating (x + ½), each weight is the triangle filter
    /// at (j − centre + ½)/filterscale (computed as a product with the reciprocal), normalised by the sum in double precision,
    /// then rounded half away from zero to 22-bit fixed point.
    /// </summary>
    internal static AxisWeights Precompute(int inSize, int outSize)
    {
        double scale = (double)(float)inSize / outSize;
        double filterScale = scale < 1.0 ? 1.0 : scale;
        double support = 1.0 * filterScale;
        int kernelSize = (int)Math.Ceiling(support) * 2 + 1;
        var first = new int[outSize];
        var count = new int[outSize];
        var weights = new int[outSize * kernelSize];
        Span<double> k = kernelSize <= 256 ? stackalloc double[kernelSize] : new double[kernelSize];
        double reciprocal = 1.0 / filterScale;
        for (int i = 0; i < outSize; i++)
        {
            double center = 0.0 + (i + 0.5) * scale;
            int xmin = (int)(center - support + 0.5);
            if (xmin < 0)
            {
                xmin = 0;
            }
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize)
            {
                xmax = inSize;
            }
            xmax -= xmin;
            double sum = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Triangle((x + xmin - center + 0.5) * reciprocal);
                k[x] = w;
                sum += w;
            }
            for (int x = 0; x < xmax; x++)
            {
                if (sum != 0.0)
                {
                    k[x] /= sum;
                }
                double scaled = k[x] * (1 << PrecisionBits);
                weights[i * kernelSize + x] = k[x] < 0 ? (int)(-0.5 + scaled) : (int)(0.5 + scaled);
            }
            first[i] = xmin;
            count[i] = xmax;
        }
        return new AxisWeights(kernelSize, first, count, weights);
    }

    private static double Triangle(double x)
    {
        if (x < 0.0)
        {
            x = -x;
        }
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Clip8(int accumulator)
    {
        int v = accumulator >> PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    /// <summary>
    /// Horizontal pass over input rows [firstRow, lastRow). The SIMD loops compute exactly the scalar loop's int32 products and
    /// sums, only grouped differently (integer addition is associative): with AVX2 two taps per 8-lane multiply-add (lanes 0–2 and
    /// 3–5 are the two pixels' R, G, B; lanes 6–7 have weight 0), with SSE4.1 one tap per 4-lane multiply-add. Their loads run up
    /// to 5 bytes past the last pixel used, so the buffer's final two rows take the scalar loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ResampleHorizontal(byte[] input, int inWidth, int firstRow, int lastRow, byte[] output, int outWidth, AxisWeights w)
    {
        int kernelSize = w.KernelSize;
        int totalRows = input.Length / (inWidth * 3);
        fixed (byte* src0 = input)
        fixed (byte* dst0 = output)
        fixed (int* weights = w.Weights)
        fixed (int* firsts = w.First)
        fixed (int* counts = w.Count)
        {
            for (int y = firstRow; y < lastRow; y++)
            {
                byte* srcRow = src0 + (long)y * inWidth * 3;
                byte* dst = dst0 + (long)(y - firstRow) * outWidth * 3;
                if (Avx2.IsSupported && y < totalRows - 2)
                {
                    fixed (int* paired = w.PairedRgb)
                    {
                        HorizontalRowAvx2(srcRow, dst, outWidth, w.PairsPerOutput, paired, firsts, counts);
                    }
                }
                else if (Sse41.IsSupported && y < totalRows - 1)
                {
                    HorizontalRowSse41(srcRow, dst, outWidth, kernelSize, weights, firsts, counts);
                }
                else
                {
                    HorizontalRowScalar(srcRow, dst, outWidth, kernelSize, weights, firsts, counts);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void HorizontalRowScalar(byte* srcRow, byte* dst, int outWidth, int kernelSize, int* weights, int* firsts, int* counts)
    {
        const int half = 1 << (PrecisionBits - 1);
        for (int x = 0; x < outWidth; x++)
        {
            int* k = weights + x * kernelSize;
            byte* s = srcRow + firsts[x] * 3;
            int n = counts[x];
            int r = half, g = half, b = half;
            for (int t = 0; t < n; t++, s += 3)
            {
                int kt = k[t];
                r += s[0] * kt;
                g += s[1] * kt;
                b += s[2] * kt;
            }
            dst[0] = Clip8(r);
            dst[1] = Clip8(g);
            dst[2] = Clip8(b);
            dst += 3;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void HorizontalRowSse41(byte* srcRow, byte* dst, int outWidth, int kernelSize, int* weights, int* firsts, int* counts)
    {
        Vector128<int> half = Vector128.Create(1 << (PrecisionBits - 1));
        for (int x = 0; x < outWidth; x++)
        {
            int* k = weights + x * kernelSize;
            byte* s = srcRow + firsts[x] * 3;
            int n = counts[x];
            Vector128<int> acc = half;
            for (int t = 0; t < n; t++, s += 3)
            {
                acc = Sse2.Add(acc, Sse41.MultiplyLow(Sse41.ConvertToVector128Int32(s), Vector128.Create(k[t])));
            }
            Vector128<int> shifted = Sse2.ShiftRightArithmetic(acc, PrecisionBits);
            dst[0] = ClampByte(shifted.GetElement(0));
            dst[1] = ClampByte(shifted.GetElement(1));
            dst[2] = ClampByte(shifted.GetElement(2));
            dst += 3;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void HorizontalRowAvx2(byte* srcRow, byte* dst, int outWidth, int pairsPerOutput, int* paired, int* firsts, int* counts)
    {
        const int half = 1 << (PrecisionBits - 1);
        for (int x = 0; x < outWidth; x++)
        {
            int* k = paired + x * pairsPerOutput * 8;
            byte* s = srcRow + firsts[x] * 3;
            int pairs = (counts[x] + 1) / 2;
            Vector256<int> acc = Vector256<int>.Zero;
            for (int p = 0; p < pairs; p++, s += 6, k += 8)
            {
                acc = Avx2.Add(acc, Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(s), Avx.LoadVector256(k)));
            }
            dst[0] = ClampByte((half + acc.GetElement(0) + acc.GetElement(3)) >> PrecisionBits);
            dst[1] = ClampByte((half + acc.GetElement(1) + acc.GetElement(4)) >> PrecisionBits);
            dst[2] = ClampByte((half + acc.GetElement(2) + acc.GetElement(5)) >> PrecisionBits);
            dst += 3;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte ClampByte(int v) => v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;

    /// <summary>
    /// Vertical pass, one output row at a time: every input row in the window is multiplied by its weight and added into an int32
    /// row accumulator (SIMD across the row). Integer addition is associative, so the sum equals Pillow's per-pixel loop exactly.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ResampleVertical(byte[] input, int width, int rowOffset, byte[] output, int outHeight, AxisWeights w)
    {
        const int half = 1 << (PrecisionBits - 1);
        int rowBytes = width * 3;
        var accumulator = new int[rowBytes];
        int vectorInts = Vector<int>.Count;
        fixed (byte* src0 = input)
        fixed (byte* dst0 = output)
        fixed (int* acc = accumulator)
        {
            for (int y = 0; y < outHeight; y++)
            {
                new Span<int>(acc, rowBytes).Fill(half);
                int n = w.Count[y];
                int rowStart = w.First[y] - rowOffset;
                for (int t = 0; t < n; t++)
                {
                    int kt = w.Weights[y * w.KernelSize + t];
                    byte* s = src0 + (long)(rowStart + t) * rowBytes;
                    int i = 0;
                    if (Vector.IsHardwareAccelerated)
                    {
                        var kv = new Vector<int>(kt);
                        int byteVector = Vector<byte>.Count;
                        for (; i + byteVector <= rowBytes; i += byteVector)
                        {
                            var bytes = Vector.Load(s + i);
                            Vector.Widen(bytes, out Vector<ushort> lo16, out Vector<ushort> hi16);
                            Vector.Widen(lo16, out Vector<uint> a, out Vector<uint> b);
                            Vector.Widen(hi16, out Vector<uint> c, out Vector<uint> d);
                            int* p = acc + i;
                            (Vector.Load(p) + Vector.AsVectorInt32(a) * kv).Store(p);
                            (Vector.Load(p + vectorInts) + Vector.AsVectorInt32(b) * kv).Store(p + vectorInts);
                            (Vector.Load(p + 2 * vectorInts) + Vector.AsVectorInt32(c) * kv).Store(p + 2 * vectorInts);
                            (Vector.Load(p + 3 * vectorInts) + Vector.AsVectorInt32(d) * kv).Store(p + 3 * vectorInts);
                        }
                    }
                    for (; i < rowBytes; i++)
                    {
                        acc[i] += s[i] * kt;
                    }
                }
                byte* dst = dst0 + (long)y * rowBytes;
                for (int i = 0; i < rowBytes; i++)
                {
                    dst[i] = Clip8(acc[i]);
                }
            }
        }
    }
}
