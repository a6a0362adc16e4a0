namespace LlamaGuardSharp.Tools;

/// <summary>
/// Writes src/LlamaGuardSharp/Compute/GemmMicroKernel.cs: the GEMM micro-kernels, written out with one named local per
/// accumulator (the JIT keeps accumulators in registers only as separately named locals, so the rows cannot be a loop
/// or an array). The prose (documentation comments, signatures) is kept here verbatim; every line that repeats per row
/// is generated. A test checks that the committed file is exactly what this produces.
/// </summary>
public static class GemmMicroKernelSource
{
    /// <summary>Rows of the full kernel (<c>Kernel14x32</c>).</summary>
    public const int FullRows = 14;

    /// <summary>The whole file.</summary>
    public static string Generate()
    {
        var s = new System.Text.StringBuilder();
        Line(s, Header);
        FullKernel(s);
        Line(s, Kernel8Doc);
        PartialKernel(s, rows: 8, zeroIndent: 12);
        Line(s, Kernel12Doc);
        PartialKernel(s, rows: 12, zeroIndent: 8);
        Line(s, "}");
        return s.ToString();
    }

    /// <summary>Kernel14x32: the accumulators loaded or zeroed, the k loop in its three prefetch phases, bias, store.</summary>
    private static void FullKernel(System.Text.StringBuilder s)
    {
        Declarations(s, FullRows);
        Line(s, "        if (accumulate)");
        Line(s, "        {");
        PerRow(s, FullRows, r => $"            c{r}_0 = Vector512.Load(c + {r} * ldc); c{r}_1 = Vector512.Load(c + {r} * ldc + 16);");
        Line(s, "        }");
        Line(s, "        else");
        Line(s, "        {");
        Zeros(s, FullRows, 12);
        Line(s, "        }");
        Line(s, PhasesComment);
        Line(s, "        if (pfB == null)");
        Line(s, "        {");
        Loop(s, FullRows, 12, "for (; p < aIterations; p++)", ["Sse.Prefetch1(pfA);", "pfA += 64;"]);
        Line(s, "        }");
        Line(s, "        else");
        Line(s, "        {");
        Loop(s, FullRows, 12, "for (; p < aIterations; p++)",
            ["Sse.Prefetch1(pfA);", "Sse.Prefetch1(pfB);", "Sse.Prefetch1(pfB + 64);", "pfA += 64;", "pfB += 128;"]);
        Loop(s, FullRows, 12, "for (; p < bIterations; p++)", ["Sse.Prefetch1(pfB);", "Sse.Prefetch1(pfB + 64);", "pfB += 128;"]);
        Line(s, "        }");
        Loop(s, FullRows, 8, "for (; p < kc; p++)", []);
        Bias(s, FullRows);
        PerRow(s, FullRows, r => $"        {Store(r)}");
        Line(s, "    }");
    }

    /// <summary>Kernel8x32 / Kernel12x32: the first <paramref name="rows"/> rows of the full kernel, C rows past the
    /// panel's real row count neither read nor written.</summary>
    private static void PartialKernel(System.Text.StringBuilder s, int rows, int zeroIndent)
    {
        Declarations(s, rows);
        Zeros(s, rows, zeroIndent);
        Line(s, "        if (accumulate)");
        Line(s, "        {");
        PerRow(s, rows, r => $"            if (rows > {r}) {{ c{r}_0 = Vector512.Load(c + {r} * ldc); c{r}_1 = Vector512.Load(c + {r} * ldc + 16); }}");
        Line(s, "        }");
        Loop(s, rows, 8, "for (int p = 0; p < kc; p++)", []);
        Bias(s, rows);
        PerRow(s, rows, r => $"        if (rows > {r}) {{ {Store(r)} }}");
        Line(s, "    }");
    }

    private static void Declarations(System.Text.StringBuilder s, int rows) =>
        Line(s, "        Vector512<float> " + string.Join(", ", Enumerable.Range(0, rows).Select(r => $"c{r}_0, c{r}_1")) + ";");

    private static void Zeros(System.Text.StringBuilder s, int rows, int indent) =>
        PerRow(s, rows, r => new string(' ', indent) + $"c{r}_0 = Vector512<float>.Zero; c{r}_1 = Vector512<float>.Zero;");

    /// <summary>One k loop: the prefetch lines, then per k two B vectors and one broadcast-FMA pair per row.</summary>
    private static void Loop(System.Text.StringBuilder s, int rows, int indent, string head, string[] prefetch)
    {
        string outer = new(' ', indent), inner = new(' ', indent + 4);
        Line(s, outer + head);
        Line(s, outer + "{");
        foreach (string line in prefetch)
        {
            Line(s, inner + line);
        }
        Line(s, inner + "Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);");
        Line(s, inner + "Vector512<float> ar;");
        PerRow(s, rows, r => inner + $"ar = Vector512.Create(a[{r}]); c{r}_0 = Vector512.FusedMultiplyAdd(ar, b0, c{r}_0); c{r}_1 = Vector512.FusedMultiplyAdd(ar, b1, c{r}_1);");
        Line(s, inner + $"a += {FullRows};");
        Line(s, inner + "b += 32;");
        Line(s, outer + "}");
    }

    private static void Bias(System.Text.StringBuilder s, int rows)
    {
        Line(s, "        if (bias != null)");
        Line(s, "        {");
        Line(s, "            Vector512<float> bias0 = Vector512.Load(bias), bias1 = Vector512.Load(bias + 16);");
        PerRow(s, rows, r => $"            c{r}_0 += bias0; c{r}_1 += bias1;");
        Line(s, "        }");
    }

    private static string Store(int r) => $"c{r}_0.Store(c + {r} * ldc); c{r}_1.Store(c + {r} * ldc + 16);";

    private static void PerRow(System.Text.StringBuilder s, int rows, Func<int, string> line)
    {
        for (int r = 0; r < rows; r++)
        {
            Line(s, line(r));
        }
    }

    private static void Line(System.Text.StringBuilder s, string text) => s.Append(text).Append('\n');

    private const string Header = """
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// The register-blocked inner kernel of the packed GEMM: a 14×32 tile of C held in 28 zmm accumulators,
/// updated with one broadcast-FMA pair per row per k. Per k it issues 2 vector loads of packed B, 14 broadcast
/// loads of packed A and 28 FMAs, so the two FMA ports (not the load ports) are the bottleneck.
/// </summary>
/// <remarks>
/// Disassembly (DOTNET_JitDisasm="Kernel14x32", .NET 10 FullOpts, AVX-512 host), the k loop as checked when tuning:
/// <c>vmovups zmm28, [rsi]</c> and <c>vmovups zmm29, [rsi+0x40]</c> (B), then per row
/// <c>vbroadcastss zmm30, dword ptr [rdi+4·r]</c> followed by <c>vfmadd231ps zmm(2r), zmm28, zmm30</c> and
/// <c>vfmadd231ps zmm(2r+1), zmm29, zmm30</c>; all 28 accumulators live in zmm0–zmm27 with no spills inside the loop,
/// which ends <c>add rdi, 56</c> / <c>add rsi, 128</c> / <c>inc r9d</c> / <c>cmp r9d, edx</c> / <c>jl</c>. The JIT does not fold
/// the broadcast into an embedded-broadcast operand because each broadcast feeds two FMAs (one load either way).
/// With prefetch streams the body is emitted four times — A and B streams, A only, B only, none — each loop
/// the same except for its <c>prefetcht1 [reg]</c> lines and pointer increments (checked: still no spills).
/// Generated by tools/GemmKernelGen (<c>dotnet run --project tools/GemmKernelGen</c>); edit the generator, not this file
/// (register pressure: 28 accumulators + 2 B vectors + 1 broadcast = 31 of 32).
/// </remarks>
internal static unsafe class GemmMicroKernel
{
    public const int Rows = 14;
    public const int Cols = 32;

    /// <summary>Rows <see cref="Kernel8x32"/> covers: row panels with at most this many rows use it.</summary>
    public const int ShortRows = 8;

    /// <summary>Rows <see cref="Kernel12x32"/> covers (from <see cref="ShortRows"/> + 1).</summary>
    public const int MediumRows = 12;

    /// <summary>
    /// C[0..14, 0..32] (row stride <paramref name="ldc"/>) = (accumulate ? C : 0) + Σ_p a[p*14 + r] · b[p*32 + j] (+ bias[j]).
    /// <paramref name="a"/>: kc×14 packed A, <paramref name="b"/>: kc×32 packed B, <paramref name="bias"/> null or 32 floats.
    /// Optionally it also walks two prefetch streams into L2 while it computes (same FMAs, same bits): one line of
    /// <paramref name="pfA"/> per k for the first <paramref name="pfALines"/> k (at most kc), and, unless
    /// <paramref name="pfB"/> is null, two lines of it per k (2·kc lines: one whole B micro-panel). The GEMM points them at
    /// the panels its next calls would otherwise wait for from L3 (see GemmPacked.Macro).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel14x32(float* a, float* b, int kc, float* c, long ldc, bool accumulate, float* bias,
        byte* pfA = null, int pfALines = 0, byte* pfB = null)
    {
""";

    private const string PhasesComment = """
        // Three phases: A and B streams (p < aIterations), then the B stream alone (p < bIterations; none without a B
        // stream), then no prefetch. Each loop is its own copy of the body: a prefetch instruction per stream and k,
        // nothing that tests per iteration which streams are on.
        int p = 0, aIterations = Math.Min(pfALines, kc), bIterations = pfB == null ? 0 : kc;
""";

    private const string Kernel8Doc = """

    /// <summary>
    /// Rows [0, <paramref name="rows"/>) (1 ≤ rows ≤ 8) of <see cref="Kernel14x32"/>, for a last row panel of at most 8
    /// rows (e.g. a 414-token prompt: 29 full panels and one of 8): <paramref name="a"/> is the same kc×14 packed panel;
    /// C rows past <paramref name="rows"/> are neither read nor written. Each element's FMA chain is the one
    /// <see cref="Kernel14x32"/> would run (bit-identical), without the FMAs of 6 or more zero rows (1.4 % of a 414-row
    /// GEMM) or the copy through a private tile. Written out like <see cref="Kernel14x32"/> (and generated the same way):
    /// the JIT keeps the accumulators in registers only as separately named locals.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel8x32(float* a, float* b, int kc, float* c, long ldc, int rows, bool accumulate, float* bias)
    {
""";

    private const string Kernel12Doc = """

    /// <summary>
    /// Rows [0, <paramref name="rows"/>) (9 ≤ rows ≤ 12) of <see cref="Kernel14x32"/>, for a last row panel of 9–12 rows
    /// (e.g. a 416-row prefill: 29 full panels and one of 10), as <see cref="Kernel8x32"/> does for up to 8: the same
    /// FMA chain per element (bit-identical), without the FMAs of the missing rows or the copy through a private tile.
    /// 24 accumulators + 2 B vectors + 1 broadcast = 27 of 32 zmm registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Kernel12x32(float* a, float* b, int kc, float* c, long ldc, int rows, bool accumulate, float* bias)
    {
""";
}
