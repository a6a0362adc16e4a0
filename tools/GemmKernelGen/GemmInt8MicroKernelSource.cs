namespace LlamaGuardSharp.Tools;

/// <summary>
/// Writes src/LlamaGuardSharp/Compute/GemmInt8MicroKernel.cs: the int8 (AVX-VNNI) GEMM micro-kernels, one method per
/// shape of R rows of A (1–<see cref="MaxRows"/>) × P panels of 8 output channels (1–<see cref="MaxPanels"/>), each written
/// out with one named local per accumulator (the JIT keeps accumulators in registers only as separately named locals),
/// and the dispatch from (rows, panels) to them. The prose (documentation comments, <c>Finish</c>) is kept here
/// verbatim; every line that repeats per row or panel is generated. A test checks that the committed file is exactly
/// what this produces.
/// </summary>
public static class GemmInt8MicroKernelSource
{
    /// <summary>Most rows of A per kernel.</summary>
    public const int MaxRows = 4;

    /// <summary>Most panels of 8 output channels per kernel.</summary>
    public const int MaxPanels = 3;

    /// <summary>The whole file.</summary>
    public static string Generate()
    {
        var s = new System.Text.StringBuilder();
        Line(s, Header);
        Dispatch(s);
        for (int rows = MaxRows; rows >= 1; rows--)
        {
            for (int panels = MaxPanels; panels >= 1; panels--)
            {
                Line(s, "");
                Kernel(s, rows, panels);
            }
        }
        Line(s, Tail);
        return s.ToString();
    }

    /// <summary>The name of the R × P kernel.</summary>
    public static string KernelName(int rows, int panels) => $"Kernel{rows}x{panels}";

    /// <summary><c>Run</c>: a switch from (rows, panels) to the kernel of that shape.</summary>
    private static void Dispatch(System.Text.StringBuilder s)
    {
        Line(s, "        switch ((rows, panels))");
        Line(s, "        {");
        for (int rows = MaxRows; rows >= 1; rows--)
        {
            for (int panels = MaxPanels; panels >= 1; panels--)
            {
                Line(s, $"            case ({rows}, {panels}): {KernelName(rows, panels)}(a, kp, b, i0, j0, n, rowSums, ref epilogue); return;");
            }
        }
        Line(s, "            default: ThrowBadShape(rows, panels); return;");
        Line(s, "        }");
        Line(s, "    }");
    }

    /// <summary>
    /// One kernel: the row and panel pointers, R · P zeroed accumulators, the k loop (per 4 k: P weight loads, then per
    /// row one broadcast of 4 activation bytes and P <c>vpdpbusd</c>), then <c>Finish</c> row by row, panel by panel.
    /// </summary>
    private static void Kernel(System.Text.StringBuilder s, int rows, int panels)
    {
        int accumulators = rows * panels;
        string weightVectors = panels == 1 ? "1 weight vector" : $"{panels} weight vectors";
        Line(s, $"    /// <summary>{rows} row{(rows == 1 ? "" : "s")} × {panels} panel{(panels == 1 ? "" : "s")} ({8 * panels} channels): "
            + $"{accumulators} accumulator{(accumulators == 1 ? "" : "s")} + {weightVectors} + 1 broadcast.</summary>");
        Line(s, "    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]");
        Line(s, $"    private static void {KernelName(rows, panels)}<E>(byte* a, int kp, sbyte* b, int i0, int j0, int n, int* rowSums, ref E epilogue)");
        Line(s, "        where E : struct, IInt8Epilogue");
        Line(s, "    {");
        if (panels > 1)
        {
            Line(s, "        long panelStride = (long)kp * 8;");
        }
        Line(s, "        sbyte* " + string.Join(", ", Enumerable.Range(0, panels).Select(PanelPointer)) + ";");
        Line(s, "        byte* " + string.Join(", ", Enumerable.Range(0, rows).Select(RowPointer)) + ";");
        for (int r = 0; r < rows; r++)
        {
            Line(s, "        Vector256<int> " + string.Join(", ", Enumerable.Range(0, panels).Select(p => $"{Acc(r, p)} = default")) + ";");
        }
        Line(s, "        int bytes = kp * 8;");
        Line(s, "        for (int o = 0, ao = 0; o < bytes; o += 32, ao += 4)");
        Line(s, "        {");
        for (int p = 0; p < panels; p++)
        {
            Line(s, $"            Vector256<sbyte> w{p} = Vector256.Load(b{p} + o);");
        }
        Line(s, "            Vector256<byte> x;");
        for (int r = 0; r < rows; r++)
        {
            Line(s, $"            x = Vector256.Create(*(int*)(a{r} + ao)).AsByte();");
            Line(s, "            " + string.Join(" ", Enumerable.Range(0, panels)
                .Select(p => $"{Acc(r, p)} = AvxVnni.MultiplyWideningAndAdd({Acc(r, p)}, x, w{p});")));
        }
        Line(s, "        }");
        for (int r = 0; r < rows; r++)
        {
            string i = r == 0 ? "i0" : $"i0 + {r}";
            for (int p = 0; p < panels; p++)
            {
                string j = p == 0 ? "j0" : $"j0 + {8 * p}";
                Line(s, $"        Finish(ref epilogue, {i}, {j}, n, rowSums, {Acc(r, p)});");
            }
        }
        Line(s, "    }");
    }

    private static string Acc(int row, int panel) => $"c{row}{panel}";

    private static string PanelPointer(int p) => p switch
    {
        0 => "b0 = b",
        1 => "b1 = b + panelStride",
        _ => $"b{p} = b + {p} * panelStride",
    };

    private static string RowPointer(int r) => r switch
    {
        0 => "a0 = a",
        1 => "a1 = a + kp",
        _ => $"a{r} = a + {r} * kp",
    };

    private static void Line(System.Text.StringBuilder s, string text) => s.Append(text).Append('\n');

    private static string Header => $$"""
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// The register-blocked kernels of the int8 GEMM (<see cref="GemmInt8"/>) and the int8 attention: R rows of quantized A
/// (1–4, unsigned bytes q + 128) × P panels (1–3) of 8 output channels of <see cref="Int8Weights"/> over all of K, in
/// R · P int32 accumulators. Per group of 4 k: one 32-byte weight load per panel, then per row one broadcast of 4
/// activation bytes and P 256-bit <c>vpdpbusd</c> (<see cref="AvxVnni.MultiplyWideningAndAdd(Vector256{int}, Vector256{byte}, Vector256{sbyte})"/>).
/// Each finished accumulator goes through <c>Finish</c> (the −128 · rowSum compensation) to the epilogue.
/// </summary>
/// <remarks>
/// Register budget: AVX-VNNI is VEX-encoded, so it addresses only ymm0–ymm15 (not the 32 registers of AVX-512): the
/// 4×3 kernel's 12 accumulators + 3 weight vectors + 1 broadcast use all 16, which is why 4 × 3 is the largest shape.
/// The sums are exact int32, so every kernel gives the same bits as the scalar reference for any blocking.
/// One method per shape, each accumulator a separately named local: the JIT keeps accumulators in registers only as
/// separate locals, and a kernel without the unused rows and panels needs no constant folding to drop them. Every
/// kernel is kept out of line (NoInlining): inlined into a caller's loop by tier-1 compilation, it would share the
/// registers with the caller's variables and spill inside the k loop (docs/performance-log.md, 2026-12-08).
/// Generated by tools/GemmKernelGen (<c>dotnet run --project tools/GemmKernelGen</c>); edit the generator, not this file.
/// </remarks>
internal static unsafe class GemmInt8MicroKernel
{
    /// <summary>Most rows of A per kernel call.</summary>
    public const int MaxRows = {{MaxRows}};

    /// <summary>Most panels of 8 output channels per kernel call.</summary>
    public const int MaxPanels = {{MaxPanels}};

    /// <summary>
    /// Rows [i0, i0 + <paramref name="rows"/>) of C (1 ≤ rows ≤ <see cref="MaxRows"/>; row i0 of A at <paramref name="a"/>,
    /// rows <paramref name="kp"/> bytes apart) × channels [j0, j0 + 8 · <paramref name="panels"/>) (1 ≤ panels ≤
    /// <see cref="MaxPanels"/>; the first panel's <paramref name="kp"/> × 8 bytes at <paramref name="b"/>, the others
    /// following it), over all of K (padded to <paramref name="kp"/>, a multiple of 4): the compensated dot products go to
    /// <paramref name="epilogue"/>, channels at or past <paramref name="n"/> dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<E>(int rows, int panels, byte* a, int kp, sbyte* b, int i0, int j0, int n, int* rowSums, ref E epilogue)
        where E : struct, IInt8Epilogue
    {
""";

    private const string Tail = """

    /// <summary>Subtracts the unsigned-offset compensation 128 · rowSum and hands 8 (or, at N's edge, fewer) dot products on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<E>(ref E epilogue, int i, int j0, int n, int* rowSums, Vector256<int> acc)
        where E : struct, IInt8Epilogue
    {
        if (j0 + 8 <= n)
        {
            epilogue.Store8(i, j0, acc - (Vector256.Load(rowSums + j0) << 7));
            return;
        }
        for (int j = j0; j < n; j++)
        {
            epilogue.Store1(i, j, acc.GetElement(j - j0) - 128 * rowSums[j]);
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadShape(int rows, int panels) =>
        throw new ArgumentOutOfRangeException(nameof(rows),
            $"No int8 kernel for {rows} rows × {panels} panels (1–{MaxRows} rows, 1–{MaxPanels} panels).");
}
""";
}
