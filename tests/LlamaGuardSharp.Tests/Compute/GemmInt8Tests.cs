using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Compute;

/// <summary>
/// The int8 compute path: weight and activation quantization, the AVX-VNNI GEMM/GEMV against the scalar reference
/// (exact int32 agreement), dequantized results against fp32 within the quantization bound, thread-count and M-split
/// invariance. Kernel tests are skipped loudly where AVX-VNNI is absent (see <see cref="VnniKernels"/>).
/// </summary>
public unsafe class GemmInt8Tests
{
    public static TheoryData<int, int, int> Shapes() => new()
    {
        // M: the decode GEMV (1–4 rows), 4-row blocks with every tail; N: whole 3-panel tiles, 1–2 panel tiles, a
        // partial last panel; K: multiples of 4 and padded tails.
        { 1, 4, 8 }, { 1, 5, 1 }, { 1, 64, 24 }, { 1, 1280, 100 }, { 2, 33, 17 }, { 3, 4096, 48 }, { 4, 8, 40 },
        { 5, 16, 9 }, { 7, 31, 23 }, { 9, 128, 64 }, { 13, 300, 50 }, { 64, 1280, 72 }, { 97, 130, 31 },
        { 300, 2052, 40 }, { 40, 14336, 24 },
    };

    [VnniTheory("int8 GEMM/GEMV kernels")]
    [MemberData(nameof(Shapes))]
    public void Int32Dots_MatchScalarReferenceExactly_AndAreThreadCountInvariant(int m, int k, int n)
    {
        VnniKernels.Require();
        var rng = new Random(HashCode.Combine(m, k, n));
        using var source = TestWeights.Create(rng, n, k, WeightType.BF16);
        var w = Int8Weights.QuantizeToMatrix(source.Matrix);
        int kp = Int8Weights.PaddedCols(k);
        byte[] u8 = new byte[m * kp];
        for (int i = 0; i < m; i++)
        {
            for (int p = 0; p < kp; p++)
            {
                // Extremes included (1 and 255 are the quantizer's range; 0 is legal input to the kernel too).
                u8[i * kp + p] = p < k ? (byte)rng.Next(0, 256) : (byte)128;
            }
        }
        int[] expected = new int[m * n], one = new int[m * n], two = new int[m * n];
        fixed (byte* pu = u8)
        fixed (int* pe = expected, p1 = one, p2 = two)
        {
            GemmInt8.RunInt32(pu, m, w, pe, new ComputeContext(1), reference: true);
            GemmInt8.RunInt32(pu, m, w, p1, new ComputeContext(1));
            GemmInt8.RunInt32(pu, m, w, p2, new ComputeContext(2));
        }
        Assert.Equal(expected, one);
        Assert.Equal(expected, two);
    }

    [VnniTheory("int8 GEMM/GEMV kernels")]
    [MemberData(nameof(Shapes))]
    public void Dequantized_IsWithinTheQuantizationBound_OfFp32_AndEqualsReferenceBits(int m, int k, int n)
    {
        VnniKernels.Require();
        var rng = new Random(HashCode.Combine(m, k, n, 1));
        float[] a = GemmTests.RandomValues(rng, m * k);
        // An outlier column, as real activations have: the per-row scale follows it.
        for (int i = 0; i < m; i++)
        {
            a[i * k + k / 2] *= 20;
        }
        float[] bias = GemmTests.RandomValues(rng, n);
        using var source = TestWeights.Create(rng, n, k, WeightType.BF16);
        var w = Int8Weights.QuantizeToMatrix(source.Matrix);
        float[] c1 = new float[m * n], c2 = new float[m * n], reference = new float[m * n];
        Gemm.MatMulTransposed(a, m, w, bias, c1, new ComputeContext(1));
        Gemm.MatMulTransposed(a, m, w, bias, c2, new ComputeContext(2));
        Assert.Equal(c1, c2);

        // The scalar reference end to end: reference quantization, reference dots, the same epilogue.
        int kp = Int8Weights.PaddedCols(k);
        byte[] u8 = new byte[m * kp];
        float[] rowScales = new float[m];
        fixed (float* pa = a, ps = rowScales, pr = reference, pb = bias)
        fixed (byte* pu = u8)
        {
            Int8Activations.QuantizeReference(pa, m, k, pu, ps);
            var epilogue = new Dequantize(pr, ps, w.Scales, pb, n);
            GemmInt8.Reference(pu, m, w, ref epilogue);
        }
        Assert.Equal(reference, c1);

        // Against fp32 with the original (bf16) weights: |a·w − â·ŵ| ≤ Σ_k (|a| Δw + |w| Δa + Δa Δw) with the half-steps
        // Δa = s_a / 2, Δw = s_w / 2 of the two quantizers, plus float rounding of the result.
        float[] row = new float[k];
        for (int j = 0; j < n; j++)
        {
            source.Matrix.ReadRow(j, row);
            float sw = w.Scales[j];
            for (int i = 0; i < m; i++)
            {
                double exact = bias[j], sumAbsA = 0, sumAbsW = 0;
                for (int p = 0; p < k; p++)
                {
                    exact += (double)a[i * k + p] * row[p];
                    sumAbsA += Math.Abs(a[i * k + p]);
                    sumAbsW += Math.Abs(row[p]);
                }
                double da = rowScales[i] / 2.0, dw = sw / 2.0;
                double bound = sumAbsA * dw + sumAbsW * da + k * da * dw + 1e-5 * (Math.Abs(exact) + 1);
                Assert.True(Math.Abs(c1[i * n + j] - exact) <= bound, $"[{i},{j}] {c1[i * n + j]} vs {exact} (bound {bound})");
            }
        }
    }

    [VnniFact("int8 GEMM/GEMV kernels")]
    public void EveryRow_HasTheBitsOfItsOwnOneRowCall()
    {
        VnniKernels.Require();
        // Per-row quantization and exact int32 dots: a prompt run in parts gives the bits of the prompt run at once.
        const int m = 11, k = 260, n = 52;
        var rng = new Random(11);
        float[] a = GemmTests.RandomValues(rng, m * k);
        using var source = TestWeights.Create(rng, n, k, WeightType.BF16);
        var w = Int8Weights.QuantizeToMatrix(source.Matrix);
        float[] all = new float[m * n], single = new float[n];
        var context = new ComputeContext(2);
        Gemm.MatMulTransposed(a, m, w, [], all, context);
        for (int i = 0; i < m; i++)
        {
            Gemm.MatMulTransposed(a.AsSpan(i * k, k), 1, w, [], single, context);
            Assert.Equal(all.AsSpan(i * n, n).ToArray(), single);
        }
    }

    [VnniTheory("int8 GEMM/GEMV kernels")]
    [InlineData(1)]
    [InlineData(23)]
    public void FusedProjections_EqualTheirSingleWeightCalls(int m)
    {
        VnniKernels.Require();
        const int k = 132;
        var rng = new Random(m);
        float[] a = GemmTests.RandomValues(rng, m * k);
        using var s0 = TestWeights.Create(rng, 40, k, WeightType.BF16);
        using var s1 = TestWeights.Create(rng, 16, k, WeightType.BF16);
        using var s2 = TestWeights.Create(rng, 27, k, WeightType.BF16);
        WeightMatrix[] w = [Int8Weights.QuantizeToMatrix(s0.Matrix), Int8Weights.QuantizeToMatrix(s1.Matrix), Int8Weights.QuantizeToMatrix(s2.Matrix)];
        var context = new ComputeContext(2);
        float[][] fused = w.Select(x => new float[m * x.Rows]).ToArray();
        Gemm.MatMulTransposed(a, m, w[0], fused[0], w[1], fused[1], w[2], fused[2], context);
        for (int i = 0; i < w.Length; i++)
        {
            float[] single = new float[m * w[i].Rows];
            Gemm.MatMulTransposed(a, m, w[i], [], single, context);
            Assert.Equal(single, fused[i]);
        }
    }

    [VnniFact("int8 GEMM/GEMV kernels")]
    public void A_NonFiniteActivationRow_GivesNaNInThatRowOnly()
    {
        VnniKernels.Require();
        // As in fp32, a NaN or infinity in a row of A poisons that row's outputs (NaN), never another row's.
        const int m = 3, k = 40, n = 16;
        var rng = new Random(3);
        float[] a = GemmTests.RandomValues(rng, m * k);
        a[k + 7] = float.PositiveInfinity;
        using var source = TestWeights.Create(rng, n, k, WeightType.BF16);
        var w = Int8Weights.QuantizeToMatrix(source.Matrix);
        float[] c = new float[m * n];
        Gemm.MatMulTransposed(a, m, w, [], c, new ComputeContext(2));
        Assert.All(c.AsSpan(n, n).ToArray(), v => Assert.True(float.IsNaN(v)));
        Assert.All(c.AsSpan(0, n).ToArray().Concat(c.AsSpan(2 * n, n).ToArray()), v => Assert.True(float.IsFinite(v)));
    }

    [VnniTheory("int8 GEMM/GEMV kernels")]
    [InlineData(40, 320, 24)]
    [InlineData(5, 64, 9)]
    [InlineData(70, 5120, 16)] // the vision fc2's K
    public void MatMulTransposedGelu_Int8_EqualsGeluThenMatMulBitForBit(int m, int k, int n)
    {
        VnniKernels.Require();
        // The int8 path applies GELU row by row while quantizing; with K a multiple of 16 the GELU vectors are the
        // whole-matrix call's, so the bytes and the results are the same.
        var rng = new Random(HashCode.Combine(m, k, n, "gelu8"));
        float[] a = GemmTests.RandomValues(rng, m * k);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] *= i % 97 == 0 ? 12f : 2.5f;
        }
        float[] original = (float[])a.Clone(), bias = GemmTests.RandomValues(rng, n);
        using var source = TestWeights.Create(rng, n, k, WeightType.BF16);
        var w = Int8Weights.QuantizeToMatrix(source.Matrix);
        foreach (int threads in new[] { 1, 2 })
        {
            var context = new ComputeContext(threads);
            float[] activated = new float[a.Length], expected = new float[m * n], fused = new float[m * n];
            Gelu.Apply(a, activated, context);
            Gemm.MatMulTransposed(activated, m, w, bias, expected, context);
            Gemm.MatMulTransposedGelu(a, m, w, bias, fused, context);
            Assert.Equal(expected, fused);
            Assert.Equal(original, a);
        }
    }

    [Avx512Theory("int8 activation quantizer")]
    [InlineData(1, 5)]
    [InlineData(3, 16)]
    [InlineData(7, 1283)]
    [InlineData(40, 4096)]
    public void ActivationQuantizer_VectorEqualsReference(int m, int k)
    {
        Avx512Kernels.Require();
        var rng = new Random(HashCode.Combine(m, k));
        float[] a = GemmTests.RandomValues(rng, m * k);
        a[0] = 0.5f / 127 * 3; // exactly on a rounding midpoint after scaling is likely for some rows
        if (m > 2)
        {
            Array.Clear(a, k, k); // an all-zero row: scale 0, every byte 128
        }
        int kp = Int8Weights.PaddedCols(k);
        byte[] fast = new byte[m * kp], slow = new byte[m * kp];
        float[] fastScales = new float[m], slowScales = new float[m];
        fixed (float* pa = a, pf = fastScales, ps = slowScales)
        fixed (byte* uf = fast, us = slow)
        {
            Int8Activations.Quantize(pa, m, k, uf, pf, new ComputeContext(2));
            Int8Activations.QuantizeReference(pa, m, k, us, ps);
        }
        Assert.Equal(slow, fast);
        Assert.Equal(slowScales, fastScales);
        Assert.DoesNotContain((byte)0, fast); // the range is [1, 255]: symmetric around 128
        if (m > 2)
        {
            Assert.Equal(0f, fastScales[1]);
            Assert.All(fast.AsSpan(kp, kp).ToArray(), b => Assert.Equal(128, b));
        }
    }

    [Fact]
    public void WeightQuantization_RoundTripsWithinHalfAStep_AndKeepsRowSums()
    {
        var rng = new Random(5);
        const int n = 13, k = 37;
        using var source = TestWeights.Create(rng, n, k, WeightType.F32);
        var w = Int8Weights.QuantizeToMatrix(source.Matrix);
        Assert.Equal(WeightType.I8Vnni, w.Type);
        float[] original = new float[k], restored = new float[k];
        for (int j = 0; j < n; j++)
        {
            source.Matrix.ReadRow(j, original);
            w.ReadRow(j, restored);
            float max = original.Max(MathF.Abs);
            Assert.Equal(max / 127f, w.Scales[j]);
            int sum = 0;
            for (int p = 0; p < k; p++)
            {
                Assert.True(Math.Abs(original[p] - restored[p]) <= w.Scales[j] * 0.5f * 1.0001f, $"[{j},{p}]");
                sum += Int8Weights.Get(w, j, p);
            }
            Assert.Equal(sum, w.RowSums[j]);
            Assert.Equal(127, Enumerable.Range(0, k).Max(p => Math.Abs((int)Int8Weights.Get(w, j, p))));
        }
    }

    [Fact]
    public void WeightQuantization_RejectsNonFiniteWeights()
    {
        float[] values = [1, float.NaN, 3, 4];
        var ex = Assert.Throws<ArgumentException>(() => Int8Weights.QuantizeToMatrix(WeightMatrix.FromSingles(values, 1, 4)));
        Assert.Contains("non-finite", ex.Message);
    }
}

/// <summary>
/// The tests of the AVX-VNNI kernels: skipped, with the reason in the report, where the runtime has no AVX-VNNI (the
/// int8 path then runs the scalar reference, which the tests would only compare with itself). With
/// <c>LLAMAGUARD_REQUIRE_AVX512=1</c> (.ci/checks/42-int8-vnni.sh sets it on AVX-VNNI hosts) nothing is skipped and
/// <see cref="Require"/> fails instead.
/// </summary>
public static class VnniKernels
{
    public static bool Available => AvxVnni.IsSupported;

    public static string? SkipReason(string variant) => Available || Avx512Kernels.Required
        ? null
        : $"SKIPPED: no AVX-VNNI on this host, so the {variant} are not exercised (the int8 path takes its scalar reference).";

    public static void Require() => Assert.True(Available,
        $"This test checks an AVX-VNNI kernel, but AVX-VNNI is not available to the runtime here ({Avx512Kernels.RequireVariable}=1 requires it).");
}

/// <summary>A fact about an AVX-VNNI kernel, named after <c>variant</c>, skipped loudly without AVX-VNNI.</summary>
public sealed class VnniFactAttribute : FactAttribute
{
    public VnniFactAttribute(string variant, [CallerMemberName] string test = "")
    {
        DisplayName = $"{test} [AVX-VNNI {variant}]";
        Skip = VnniKernels.SkipReason(variant);
    }
}

/// <summary>A theory about an AVX-VNNI kernel, named after <c>variant</c>, skipped loudly without AVX-VNNI.</summary>
public sealed class VnniTheoryAttribute : TheoryAttribute
{
    public VnniTheoryAttribute(string variant, [CallerMemberName] string test = "")
    {
        DisplayName = $"{test} [AVX-VNNI {variant}]";
        Skip = VnniKernels.SkipReason(variant);
    }
}
