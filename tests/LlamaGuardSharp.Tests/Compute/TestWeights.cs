using System.Runtime.InteropServices;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Compute;

/// <summary>A random weight matrix of any <see cref="WeightType"/> in native memory (f16 has no managed factory).</summary>
internal sealed unsafe class TestWeights : IDisposable
{
    private readonly void* _memory;

    private TestWeights(void* memory, WeightMatrix matrix)
    {
        _memory = memory;
        Matrix = matrix;
    }

    public WeightMatrix Matrix { get; }

    public static TestWeights Create(Random rng, int rows, int cols, WeightType type)
    {
        long count = (long)rows * cols;
        int size = type == WeightType.F32 ? 4 : 2;
        void* memory = NativeMemory.AlignedAlloc((nuint)(count * size), 64);
        for (long i = 0; i < count; i++)
        {
            float value = (float)(rng.NextDouble() * 2 - 1);
            switch (type)
            {
                case WeightType.F32:
                    ((float*)memory)[i] = value;
                    break;
                case WeightType.BF16:
                    ((ushort*)memory)[i] = Bf16.FromSingle(value);
                    break;
                default:
                    ((Half*)memory)[i] = (Half)value;
                    break;
            }
        }
        return new TestWeights(memory, new WeightMatrix(memory, rows, cols, type, null));
    }

    public void Dispose() => NativeMemory.AlignedFree(_memory);
}
