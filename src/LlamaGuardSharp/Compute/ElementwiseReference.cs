namespace LlamaGuardSharp.Compute;

/// <summary>
/// Scalar double-precision references for the fused elementwise kernels (<see cref="LayerNorm"/>, <see cref="RmsNorm"/>,
/// <see cref="Gelu"/>, <see cref="SwiGlu"/>, <see cref="Residual"/>, <see cref="Rope"/>): straightforward formulas, used
/// as test oracles.
/// </summary>
internal static class ElementwiseReference
{
    public static double[] LayerNorm(ReadOnlySpan<float> x, int rows, int dim, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, double eps)
    {
        double[] y = new double[rows * dim];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int i = 0; i < dim; i++)
            {
                mean += x[r * dim + i];
            }
            mean /= dim;
            for (int i = 0; i < dim; i++)
            {
                double d = x[r * dim + i] - mean;
                variance += d * d;
            }
            double rstd = 1 / Math.Sqrt(variance / dim + eps);
            for (int i = 0; i < dim; i++)
            {
                y[r * dim + i] = (x[r * dim + i] - mean) * rstd * weight[i] + bias[i];
            }
        }
        return y;
    }

    public static double[] RmsNorm(ReadOnlySpan<float> x, int rows, int dim, ReadOnlySpan<float> weight, double eps)
    {
        double[] y = new double[rows * dim];
        for (int r = 0; r < rows; r++)
        {
            double sumSq = 0;
            for (int i = 0; i < dim; i++)
            {
                sumSq += (double)x[r * dim + i] * x[r * dim + i];
            }
            double inv = 1 / Math.Sqrt(sumSq / dim + eps);
            for (int i = 0; i < dim; i++)
            {
                y[r * dim + i] = weight[i] * (x[r * dim + i] * inv);
            }
        }
        return y;
    }

    /// <summary>0.5·x·(1 + erf(x/√2)) with <see cref="Erfc"/> for the negative tail (no cancellation).</summary>
    public static double Gelu(double x)
    {
        double z = Math.Abs(x) / Math.Sqrt(2);
        double erfc = Erfc(z);
        return x < 0 ? 0.5 * x * erfc : x * (1 - 0.5 * erfc);
    }

    /// <summary>
    /// Complementary error function for z ≥ 0 to near double precision: the all-positive series
    /// erf(z) = 2/√π · e^(−z²) · Σ (2z²)^n z / (1·3·…·(2n+1)) below z = 2.5, the continued fraction
    /// erfc(z) = e^(−z²)/√π / (z + ½/(z + 1/(z + 3/2/(z + …)))) above.
    /// </summary>
    public static double Erfc(double z)
    {
        if (z < 0)
        {
            return 2 - Erfc(-z);
        }
        if (z < 2.5)
        {
            double term = z, sum = z;
            for (int n = 1; n < 200 && term > 1e-18 * sum; n++)
            {
                term *= 2 * z * z / (2 * n + 1);
                sum += term;
            }
            return 1 - 2 / Math.Sqrt(Math.PI) * Math.Exp(-z * z) * sum;
        }
        double f = z;
        for (int n = 200; n >= 1; n--)
        {
            f = z + n / 2.0 / f;
        }
        return Math.Exp(-z * z) / Math.Sqrt(Math.PI) / f;
    }

    public static double SiluGate(double gate, double up) => gate / (1 + Math.Exp(-gate)) * up;

    /// <summary>Rotate-half RoPE of one head vector at angle position·invFreq (angle rounded to float32 like torch).</summary>
    public static double[] Rope(ReadOnlySpan<float> x, int position, ReadOnlySpan<float> inverseFrequencies)
    {
        int half = inverseFrequencies.Length;
        double[] y = new double[2 * half];
        for (int i = 0; i < half; i++)
        {
            double angle = (float)(position * inverseFrequencies[i]);
            double c = Math.Cos(angle), s = Math.Sin(angle);
            y[i] = x[i] * c - x[i + half] * s;
            y[i + half] = x[i + half] * c + x[i] * s;
        }
        return y;
    }
}
