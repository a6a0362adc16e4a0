using System.Runtime.InteropServices;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Compute;
using LlamaGuardSharp.Tests.Compute;

namespace LlamaGuardSharp.Tests.Checkpoints;

public partial class WeightPrefetcherTests
{
    [Fact]
    public async Task Start_ReadsEvictedMappedWeightsBackIntoThePageCache()
    {
        string dir = Path.Combine(Path.GetTempPath(), "lgs-prefetch-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            // 48 MiB of bf16: the header read faults in one readahead window around it (up to 8 MiB here), not the rest.
            const int rows = 8192, cols = 3072;
            string path = Path.Combine(dir, "w.safetensors");
            byte[] data = new byte[rows * cols * 2];
            new Random(1).NextBytes(data);
            SafeTensorsWriter.Write(path, [(new TensorSpec("w", SafeTensorDType.BF16, [rows, cols]), (ReadOnlyMemory<byte>)data)]);
            bool evicted = WeightPrefetcher.IsSupported && Evict(path);
            using var file = SafeTensorsFile.Open(path);
            WeightMatrix matrix = file.GetMatrix("w");
            long bytes = (long)rows * cols * 2;
            nint address = Address(matrix);
            double before = evicted ? ResidentFraction(address, bytes) : 1;

            using (var prefetcher = WeightPrefetcher.Start([matrix], new ComputeContext(1)))
            {
                await prefetcher.Completion.WaitAsync(TimeSpan.FromSeconds(30)); // within the lookahead: requested at once
            }

            if (evicted && before < 0.5)
            {
                // The hint only queues the reads: give the disk a moment, then (practically) every page must be cached,
                // without the mapping having been touched (a read would fault the pages in by itself). Seen: 99.99 %
                // (one page of 12 288 left out by the kernel); without the hint, only the header's readahead window.
                double after = 0;
                for (int i = 0; i < 100 && after < 0.99; i++)
                {
                    await Task.Delay(20);
                    after = ResidentFraction(address, bytes);
                }
                Assert.True(after >= 0.99, $"{after:P2} of the pages are cached after the hint ({before:P2} before)");
            }
            Assert.Equal(data[12345], ByteAt(address, 12345)); // the mapping reads as before
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Readahead_WaitsForTheForwardPass_BeyondTheLookahead()
    {
        // A 3 GB "weight" first (at an unmapped address: madvise only fails there), then a small one: the second starts
        // past the lookahead, so it is requested only once a GEMM reports the first one.
        WeightMatrix big = Fake(3L << 30), small = Fake(1 << 20);
        var context = new ComputeContext(1);
        using var prefetcher = WeightPrefetcher.Start([big, small], context);
        await Task.Delay(200);
        Assert.False(prefetcher.Completion.IsCompleted);
        Assert.NotNull(context.WeightUse);

        context.WeightUse!(small); // a later weight in use order also moves the window (to its end)
        await prefetcher.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Null(context.WeightUse); // done: unsubscribed, the GEMMs pay nothing any more
    }

    [Fact]
    public async Task Dispose_StopsAWaitingReadahead_AndUnsubscribes()
    {
        var context = new ComputeContext(1);
        var prefetcher = WeightPrefetcher.Start([Fake(3L << 30), Fake(1 << 20)], context);
        await Task.Delay(100);
        prefetcher.Dispose();
        Assert.True(prefetcher.Completion.IsCompleted);
        Assert.Null(context.WeightUse);
    }

    [Fact]
    public void Gemm_ReportsEachWeightItMultiplies()
    {
        var seen = new List<WeightMatrix>();
        var context = new ComputeContext(1);
        context.WeightUse = seen.Add;
        var rng = new Random(2);
        WeightMatrix w0 = WeightMatrix.FromSingles(GemmTests.RandomValues(rng, 32 * 16), 32, 16);
        WeightMatrix w1 = WeightMatrix.FromSingles(GemmTests.RandomValues(rng, 32 * 16), 32, 16);
        float[] a = GemmTests.RandomValues(rng, 20 * 16), c0 = new float[20 * 32], c1 = new float[20 * 32];
        Gemm.MatMulTransposed(a, 20, w0, [], c0, context);
        Gemm.MatMulTransposed(a, 20, w0, c0, w1, c1, context); // fused: the furthest weight
        Gemm.MatMulTransposedGelu(a, 20, w1, [], c1, context);
        Assert.Equal([w0, w1, w1], seen);
    }

    private static unsafe WeightMatrix Fake(long bytes) =>
        new((void*)4096, checked((int)(bytes / 2 / 1024)), 1024, WeightType.BF16, null);

    /// <summary>Flushes the file and asks the kernel to drop its cached pages; false when that is not possible here.</summary>
    private static bool Evict(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Flush(flushToDisk: true);
        int fd = (int)stream.SafeFileHandle.DangerousGetHandle();
        return PosixFadvise(fd, 0, 0, 4 /* POSIX_FADV_DONTNEED */) == 0;
    }

    private static unsafe nint Address(WeightMatrix matrix) => (nint)matrix.Data;

    private static unsafe byte ByteAt(nint address, int offset) => ((byte*)address)[offset];

    private static unsafe double ResidentFraction(nint start, long bytes)
    {
        long page = Environment.SystemPageSize;
        nint begin = start & ~(nint)(page - 1);
        long length = start + bytes - begin;
        var vec = new byte[(length + page - 1) / page];
        fixed (byte* v = vec)
        {
            if (Mincore(begin, (nuint)length, v) != 0)
            {
                return 1;
            }
        }
        return vec.Count(b => (b & 1) != 0) / (double)vec.Length;
    }

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int PosixFadvise(int fd, long offset, long length, int advice);

    [LibraryImport("libc", EntryPoint = "mincore")]
    private static unsafe partial int Mincore(nint address, nuint length, byte* vector);
}
