using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// A 64-byte aligned float buffer from a <see cref="ScratchPool"/>, handed back with <see cref="ScratchPool.Return"/>
/// for reuse. Small buffers are pinned managed arrays. Large ones (≥ <see cref="HugePageBytes"/>: the GEMM's packed
/// panels, attention's packed K/V) are native memory in 2 MiB-aligned ranges advised to use transparent huge pages,
/// freed when the pool drops them (or by the finalizer).
/// </summary>
/// <remarks>
/// Why: a large pinned array new on every call costs one page fault per 4 KiB page (zeroed by the kernel; expensive
/// under a hypervisor); 2 MiB pages make that a few dozen faults and cut the TLB misses of the packed panels the
/// micro-kernel streams (figures: docs/performance-log.md). No <c>GC.AddMemoryPressure</c>: the memory is freed
/// deterministically, and pressure from buffers made and dropped per call would induce gen-2 collections.
/// </remarks>
internal sealed unsafe class ScratchBuffer
{
    /// <summary>Buffers of at least this many bytes are native memory on huge pages.</summary>
    public const long HugePageBytes = 4L << 20;

    private const long HugePage = 2L << 20;
    private readonly float[]? _array;
    private void* _native;
    private readonly long _nativeBytes;

    public ScratchBuffer(long floats)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(floats);
        long bytes = floats * sizeof(float);
        Length = floats;
        if (bytes >= HugePageBytes)
        {
            _nativeBytes = (bytes + HugePage - 1) & ~(HugePage - 1);
            _native = NativeMemory.AlignedAlloc((nuint)_nativeBytes, (nuint)HugePage);
            MemoryAdvice.HugePages((nint)_native, (nuint)_nativeBytes);
            Pointer = (float*)_native;
            return;
        }
        // 16 spare floats let the start be rounded up to a cache line (pinned arrays are only 8-byte aligned).
        _array = GC.AllocateUninitializedArray<float>(checked((int)(floats + 16)), pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        Pointer = (float*)((start + 63) & ~(nint)63);
    }

    ~ScratchBuffer() => FreeNative();

    /// <summary>Cache-line aligned start; valid while this object is alive and not <see cref="Release"/>d.</summary>
    public float* Pointer { get; }

    public long Length { get; }

    /// <summary>Frees native memory now (the pool calls this for buffers it does not keep).</summary>
    public void Release()
    {
        FreeNative();
        GC.SuppressFinalize(this);
    }

    private void FreeNative()
    {
        void* native = _native;
        if (native != null)
        {
            _native = null;
            NativeMemory.AlignedFree(native);
        }
    }
}

/// <summary>
/// Reusable scratch memory owned by a <see cref="ComputeContext"/> (pack buffers, score tiles), so steady-state
/// kernel calls allocate nothing. Thread-safe: concurrent kernels simply rent different buffers.
/// </summary>
internal sealed class ScratchPool
{
    private const int MaxKept = 32;

    /// <summary>Buffers above 64 MiB are not kept: only calls made once per request need them.</summary>
    private const long MaxKeptFloats = 16L << 20;
    private readonly List<ScratchBuffer> _free = [];
    private readonly Lock _gate = new();

    /// <summary>A buffer of at least <paramref name="floats"/> floats (contents undefined).</summary>
    public ScratchBuffer Rent(long floats)
    {
        lock (_gate)
        {
            int best = -1;
            for (int i = 0; i < _free.Count; i++)
            {
                if (_free[i].Length >= floats && (best < 0 || _free[i].Length < _free[best].Length))
                {
                    best = i;
                }
            }
            if (best >= 0)
            {
                ScratchBuffer found = _free[best];
                _free.RemoveAt(best);
                return found;
            }
        }
        return new ScratchBuffer(floats);
    }

    public void Return(ScratchBuffer buffer)
    {
        if (buffer.Length > MaxKeptFloats)
        {
            buffer.Release(); // a one-off giant (the projector's packed B, 126 MB) is not kept for good
            return;
        }
        lock (_gate)
        {
            if (_free.Count < MaxKept)
            {
                _free.Add(buffer);
            }
            else
            {
                // Drop the smallest so the pool converges on the sizes actually used.
                int smallest = 0;
                for (int i = 1; i < _free.Count; i++)
                {
                    if (_free[i].Length < _free[smallest].Length)
                    {
                        smallest = i;
                    }
                }
                if (_free[smallest].Length < buffer.Length)
                {
                    (_free[smallest], buffer) = (buffer, _free[smallest]);
                }
                buffer.Release();
            }
        }
    }
}
