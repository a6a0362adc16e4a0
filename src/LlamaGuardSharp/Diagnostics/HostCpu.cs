using System.Runtime.Intrinsics.X86;
using System.Text;

namespace LlamaGuardSharp.Diagnostics;

/// <summary>
/// The processor a benchmark ran on, so its figures can be attributed: the same code reads differently on different
/// hosts (e.g. a 2-vCPU Xeon with a 2 MiB L2 and a Zen 5 with 1 MiB and an AVX512_BF16 unit twice as fast as its fp32
/// FMAs, which is what PyTorch's bf16 matmul uses).
/// </summary>
/// <param name="Vendor">CPUID vendor string (<c>GenuineIntel</c>, <c>AuthenticAMD</c>), or empty off x86.</param>
/// <param name="ModelName">/proc/cpuinfo's <c>model name</c> (Linux), else empty.</param>
/// <param name="Family">CPUID display family (e.g. 6 for Intel cores, 0x1A for AMD Zen 5), 0 off x86.</param>
/// <param name="Model">CPUID display model, 0 off x86.</param>
/// <param name="L2KiB">L2 size per core from CPUID leaf 0x80000006 (0 if not reported).</param>
/// <param name="Avx512">AVX-512 F/BW/DQ/VL, what the kernels need.</param>
/// <param name="Avx512Bf16">AVX512_BF16 (<c>vdpbf16ps</c>), which .NET does not expose but other libraries use.</param>
internal sealed record HostCpu(string Vendor, string ModelName, int Family, int Model, int L2KiB, bool Avx512, bool Avx512Bf16)
{
    /// <summary>Reads the running machine's processor.</summary>
    public static HostCpu Current()
    {
        string modelName = "";
        try
        {
            if (OperatingSystem.IsLinux() && File.Exists("/proc/cpuinfo"))
            {
                modelName = ParseModelName(File.ReadLines("/proc/cpuinfo"));
            }
        }
        catch (IOException)
        {
            // unreadable: the CPUID fields still identify the processor
        }
        catch (UnauthorizedAccessException)
        {
        }
        bool avx512 = Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported && Avx512F.VL.IsSupported;
        if (!X86Base.IsSupported)
        {
            return new HostCpu("", modelName, 0, 0, 0, false, false);
        }
        var (maxLeaf, b, c, d) = X86Base.CpuId(0, 0);
        var vendor = new StringBuilder(12);
        foreach (int register in new[] { b, d, c })
        {
            for (int shift = 0; shift < 32; shift += 8)
            {
                vendor.Append((char)((register >> shift) & 0xFF));
            }
        }
        int signature = X86Base.CpuId(1, 0).Eax;
        int baseFamily = (signature >> 8) & 0xF, baseModel = (signature >> 4) & 0xF;
        int family = baseFamily == 0xF ? baseFamily + ((signature >> 20) & 0xFF) : baseFamily;
        int model = baseFamily is 0x6 or 0xF ? baseModel | (((signature >> 16) & 0xF) << 4) : baseModel;
        bool bf16 = maxLeaf >= 7 && (X86Base.CpuId(7, 1).Eax & (1 << 5)) != 0;
        int l2 = (uint)X86Base.CpuId(unchecked((int)0x80000000), 0).Eax >= 0x80000006u
            ? (int)((uint)X86Base.CpuId(unchecked((int)0x80000006), 0).Ecx >> 16)
            : 0;
        return new HostCpu(vendor.ToString(), modelName, family, model, l2, avx512, bf16);
    }

    /// <summary>The first <c>model name</c> value of /proc/cpuinfo lines, trimmed; empty if there is none.</summary>
    internal static string ParseModelName(IEnumerable<string> cpuinfoLines)
    {
        foreach (string line in cpuinfoLines)
        {
            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim() == "model name")
            {
                return line[(colon + 1)..].Trim();
            }
        }
        return "";
    }

    /// <summary>One line for logs, e.g. <c>AMD EPYC (AuthenticAMD family 0x1A model 0x02, L2 1024 KiB, AVX-512, AVX512_BF16)</c>.</summary>
    public override string ToString()
    {
        string name = ModelName.Length > 0 ? ModelName : (Vendor.Length > 0 ? Vendor : "unknown processor");
        var parts = new List<string>();
        if (Vendor.Length > 0)
        {
            parts.Add($"{Vendor} family 0x{Family:X2} model 0x{Model:X2}");
        }
        if (L2KiB > 0)
        {
            parts.Add($"L2 {L2KiB} KiB");
        }
        parts.Add(Avx512 ? "AVX-512" : "no AVX-512");
        if (Avx512Bf16)
        {
            parts.Add("AVX512_BF16");
        }
        return $"{name} ({string.Join(", ", parts)})";
    }
}
