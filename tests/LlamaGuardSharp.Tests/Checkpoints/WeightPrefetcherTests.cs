using System.Runtime.InteropServices;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Tests.Checkpoints;

public partial class WeightPrefetcherTests
{
    [Fact]
    public async Task Start_ReadsEvictedMappedWeightsBackIntoThePageCache()
    {
        // Beside the test binaries rather than in /tmp, which may be a tmpfs (whose pages cannot be evicted, so the
        // residency check below would have nothing to check).
        string dir = Path.Combine(AppContext.BaseDirectory, "lgs-prefetch-" + Guid.NewGuid().ToString("N"));
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

            await WeightPrefetcher.Start([matrix], CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

            if (evicted && before < 0.5)
            {
                // The task has read every page of the matrix: (practically) all of them must be cached now. Seen: 100 %;
                // without the prefetcher, only the header's readahead window (≈ 17 %).
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
    public async Task Start_StopsWhenCancelled_AndIgnoresMemoryThatIsNotAFileMapping()
    {
        // Pinned managed memory (madvise fails there) and a cancelled token: the task ends at once, without throwing.
        var matrices = Enumerable.Range(0, 4).Select(_ => WeightMatrix.FromSingles(new float[4096], 64, 64)).ToArray();
        await WeightPrefetcher.Start(matrices, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        await WeightPrefetcher.Start(matrices, cancelled.Token).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Theory]
    [InlineData(21_350_000_000L, 24_600_000_000L, true)]   // the real checkpoint on this 24 GB machine: fits with 2.5 GB spare
    [InlineData(21_350_000_000L, 16_000_000_000L, false)]  // 16 GB: would evict pages in use
    [InlineData(1_000_000L, 4_000_000_000L, true)]
    public void Fits_LeavesRoomForTheActivations(long checkpointBytes, long physical, bool expected) =>
        Assert.Equal(expected, WeightPrefetcher.Fits(checkpointBytes, physical));

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
