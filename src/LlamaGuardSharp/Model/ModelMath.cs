using System.Numerics.Tensors;

namespace LlamaGuardSharp.Model;

/// <summary>
/// The elementwise operations of the Mllama forward pass, row by row over token-major float32 buffers.
/// Placeholders for the fused kernels of <c>Compute/</c>; they follow the reference definitions (spec §6.5):
/// reductions are accumulated in double so results sit closer to exact math than float32 references do.
/// </summary>
internal static class ModelMath
{
    /// <summary>LayerNorm with biased variance: y = (x − μ)/√(σ² + eps)·w + b, for every row of length w.Length.</summary>
    public static void LayerNorm(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, float eps)
    {
        int d = weight.Length;
        for (int row = 0; row < x.Length / d; row++)
        {
            var xi = x.Slice(row * d, d);
            var yi = y.Slice(row * d, d);
            double sum = 0;
            for (int j = 0; j < d; j++)
            {
                sum += xi[j];
            }
            double mean = sum / d, sq = 0;
            for (int j = 0; j < d; j++)
            {
                double c = xi[j] - mean;
                sq += c * c;
            }
            float mu = (float)mean;
            float inv = (float)(1.0 / Math.Sqrt(sq / d + eps));
            for (int j = 0; j < d; j++)
            {
                yi[j] = (xi[j] - mu) * inv * weight[j] + bias[j];
            }
        }
    }

    /// <summary>RMSNorm as Llama defines it: y = w ⊙ (x / √(mean(x²) + eps)), for every row of length w.Length.</summary>
    public static void RmsNorm(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> weight, float eps)
    {
        int d = weight.Length;
        for (int row = 0; row < x.Length / d; row++)
        {
            var xi = x.Slice(row * d, d);
            var yi = y.Slice(row * d, d);
            double sq = 0;
            for (int j = 0; j < d; j++)
            {
                sq += (double)xi[j] * xi[j];
            }
            float inv = (float)(1.0 / Math.Sqrt(sq / d + eps));
            TensorPrimitives.Multiply(xi, inv, yi);
            TensorPrimitives.Multiply(yi, weight, yi);
        }
    }

    /// <summary>Exact GELU, 0.5·x·(1 + erf(x/√2)), in place.</summary>
    public static void GeluErf(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i];
            x[i] = (float)(0.5 * v * (1.0 + Erf(v * 0.70710678118654752440)));
        }
    }

    /// <summary>gate ← SiLU(gate) ⊙ up, the SwiGLU inner product.</summary>
    public static void SiluMultiply(Span<float> gate, ReadOnlySpan<float> up)
    {
        for (int i = 0; i < gate.Length; i++)
        {
            float g = gate[i];
            gate[i] = g / (1f + MathF.Exp(-g)) * up[i];
        }
    }

    /// <summary>x ← x + scale·y (residual update with a gate).</summary>
    public static void AddScaled(Span<float> x, ReadOnlySpan<float> y, float scale) => TensorPrimitives.MultiplyAdd(y, scale, x, x);

    /// <summary>
    /// erf(x) to double precision (|error| below 1.2e-16 relative): a Maclaurin series for small |x| and a continued
    /// fraction for erfc elsewhere. .NET has no Math.Erf.
    /// </summary>
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax < 2.0)
        {
            // erf(x) = 2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))
            double term = x, sum = x, x2 = x * x;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum))
                {
                    break;
                }
            }
            return 1.1283791670955126 * sum;
        }
        if (ax > 6.0)
        {
            return Math.Sign(x);
        }
        // erfc(x) = exp(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))), evaluated bottom-up.
        double f = ax;
        for (int k = 60; k >= 1; k--)
        {
            f = ax + k * 0.5 / f;
        }
        double erfc = Math.Exp(-ax * ax) / (1.7724538509055160 * f);
        return Math.Sign(x) * (1.0 - erfc);
    }
}
