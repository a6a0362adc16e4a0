// The steps the packed GEMM runs with: timed in the diagnostic build (bench/gemm_calls.sh), direct otherwise.
#if GEMM_CALL_TIMING
global using ActiveGemmSteps = LlamaGuardSharp.Compute.TimedGemmSteps;
#else
global using ActiveGemmSteps = LlamaGuardSharp.Compute.GemmSteps;
#endif
using System.Runtime.CompilerServices;

namespace LlamaGuardSharp.Compute;

/// <summary>Where a full-tile micro-kernel call sits in the packed GEMM's schedule (what the diagnostic timing classifies by).</summary>
/// <param name="FirstKBlock">The call is in the first K block (it starts its C tile from zero or the bias).</param>
/// <param name="FirstSweep">The call is in its K block's first sweep over the chunk's B panels (B fresh from L3).</param>
/// <param name="FirstCallOfSweep">The call is its sweep's first (a new A panel).</param>
internal readonly record struct TileCall(bool FirstKBlock, bool FirstSweep, bool FirstCallOfSweep);

/// <summary>
/// The steps of <see cref="GemmPacked"/>'s schedule: packing A and B micro-panels, a work item's macro tile for one K
/// block, waiting on another item, and the micro-kernel calls. The schedule takes them as a type parameter, so timing
/// them (the diagnostic build's TimedGemmSteps, GemmCallTiming.cs) wraps the steps instead of sitting inside the
/// scheduling code; with <see cref="GemmSteps"/> the calls compile to direct calls.
/// </summary>
internal unsafe interface IGemmSteps
{
    static abstract void PackA(float* a, int m, int k, int i0, int p0, int kc, float* dst, bool gelu);

    static abstract void PackB(GemmTarget[] targets, int[] panelStart, int q, int p0, int kc, float* dst);

    static abstract void Macro(float* pa, float* pb, int kc, int rp0, int rp1, int qp0, int qp1, int m, GemmTarget[] targets,
        int[] panelStart, bool first, bool lastBlock, in GemmPacked.Lookahead ahead);

    static abstract void Wait(ref int counter, int target);

    static abstract void FullTile(float* a, float* b, int kc, float* c, long ldc, bool accumulate, float* bias, byte* pfA, int pfALines,
        byte* pfB, TileCall call);

    static abstract void ShortPanel(float* a, float* b, int kc, float* c, long ldc, int rows, bool accumulate, float* bias);
}

/// <summary>The steps as they are: every call goes straight to its kernel.</summary>
internal readonly unsafe struct GemmSteps : IGemmSteps
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PackA(float* a, int m, int k, int i0, int p0, int kc, float* dst, bool gelu) =>
        GemmPacked.PackA(a, m, k, i0, p0, kc, dst, gelu);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PackB(GemmTarget[] targets, int[] panelStart, int q, int p0, int kc, float* dst) =>
        GemmPacked.PackB(targets, panelStart, q, p0, kc, dst);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Macro(float* pa, float* pb, int kc, int rp0, int rp1, int qp0, int qp1, int m, GemmTarget[] targets,
        int[] panelStart, bool first, bool lastBlock, in GemmPacked.Lookahead ahead) =>
        GemmPacked.Macro<GemmSteps>(pa, pb, kc, rp0, rp1, qp0, qp1, m, targets, panelStart, first, lastBlock, ahead);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Wait(ref int counter, int target) => GemmPacked.WaitUntil(ref counter, target);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FullTile(float* a, float* b, int kc, float* c, long ldc, bool accumulate, float* bias, byte* pfA, int pfALines,
        byte* pfB, TileCall call) =>
        GemmMicroKernel.Kernel14x32(a, b, kc, c, ldc, accumulate, bias, pfA, pfALines, pfB);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ShortPanel(float* a, float* b, int kc, float* c, long ldc, int rows, bool accumulate, float* bias) =>
        GemmPacked.ShortPanel(a, b, kc, c, ldc, rows, accumulate, bias);
}
