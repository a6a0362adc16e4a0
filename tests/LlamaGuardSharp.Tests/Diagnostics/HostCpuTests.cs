using System.Runtime.Intrinsics.X86;
using LlamaGuardSharp.Diagnostics;

namespace LlamaGuardSharp.Tests.Diagnostics;

public sealed class HostCpuTests
{
    [Fact]
    public void The_model_name_is_the_first_model_name_line_trimmed()
    {
        string[] lines = ["processor\t: 0", "vendor_id\t: AuthenticAMD", "model name\t: AMD EPYC 9B45  ", "model name\t: other"];
        Assert.Equal("AMD EPYC 9B45", HostCpu.ParseModelName(lines));
        Assert.Equal("", HostCpu.ParseModelName(["processor : 0", "flags : fpu", "model : 2"]));
        Assert.Equal("", HostCpu.ParseModelName([]));
    }

    [Fact]
    public void The_current_processor_is_described_consistently_with_the_runtime()
    {
        var cpu = HostCpu.Current();
        Assert.Equal(Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported, cpu.Avx512);
        if (X86Base.IsSupported)
        {
            Assert.Equal(12, cpu.Vendor.Length);
            Assert.True(cpu.Family > 0);
            Assert.Contains($"family 0x{cpu.Family:X2}", cpu.ToString(), StringComparison.Ordinal);
        }
        Assert.Contains(cpu.Avx512 ? "AVX-512" : "no AVX-512", cpu.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_description_names_what_is_known()
    {
        Assert.Equal("unknown processor (no AVX-512)", new HostCpu("", "", 0, 0, 0, false, false).ToString());
        Assert.Equal("X (GenuineIntel family 0x06 model 0x8F, L2 2048 KiB, AVX-512, AVX512_BF16)",
            new HostCpu("GenuineIntel", "X", 6, 0x8F, 2048, true, true).ToString());
    }
}
