using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LlamaGuardSharp.Compute;

/// <summary>
/// A 64-byte aligned float buffer from a <see cref="ScratchPool"/>. The memory is a pinned managed array, so it
/// needs no disposal beyond being handed back with <see cref="ScratchPool.Return"/> for reuse.
/// </summary>
internal sealed unsafe class ScratchBuffer
{
    private readonly float[] _array;

    public ScratchBuffer(long floats)
    {
        // 16 spare floats let the start be rounded up to a cache line (pinned arrays are only 8-byte aligned).
        _array = GC.AllocateUninitializedArray<float>(checked((int)(floats + 16)), pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_array));
        Pointer = (float*)((start + 63) & ~(nint)63);
        Length = floats;
    }

    /// <summary>Cache-line aligned start; valid while this object is alive.</summary>
    public float* Pointer { get; }

    public long Length { get; }
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
            return; // a one-off giant (the projector's packed B, 126 MB) is left to the GC instead of pinned for good
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
                    _free[smallest] = buffer;
                }
            }
        }
    }
}
