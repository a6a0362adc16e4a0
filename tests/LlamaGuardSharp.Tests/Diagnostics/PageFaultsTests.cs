using LlamaGuardSharp.Diagnostics;

namespace LlamaGuardSharp.Tests.Diagnostics;

public class PageFaultsTests
{
    [Fact]
    public void Major_IsReadFromProcStat_AndNeverDecreases()
    {
        long? first = PageFaults.Major();
        if (!OperatingSystem.IsLinux())
        {
            return; // no /proc: null is the documented answer there
        }
        Assert.NotNull(first);
        Assert.True(first >= 0);
        // Touch some fresh memory (minor faults only) and read again: the count is cumulative.
        byte[] block = new byte[8 << 20];
        for (int i = 0; i < block.Length; i += 4096)
        {
            block[i] = 1;
        }
        long? second = PageFaults.Major();
        Assert.NotNull(second);
        Assert.True(second >= first, $"{second} < {first}");
        Assert.Equal(1, block[4096]);
    }
}
