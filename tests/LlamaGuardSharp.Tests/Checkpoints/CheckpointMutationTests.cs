using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using LlamaGuardSharp.Checkpoints;

namespace LlamaGuardSharp.Tests.Checkpoints;

/// <summary>
/// Seeded mutation testing of the golden checkpoint files: header byte edits, header-length edits, truncations and
/// structured JSON edits. Every outcome must be either a checkpoint that opens with every tensor inside the file, or a
/// <see cref="CheckpointFormatException"/>; anything else (another exception type, a crash) fails with the seed and edit.
/// Mutated files keep the original length as a sparse file (only the header is written), which keeps thousands of cases fast.
/// </summary>
public class CheckpointMutationTests
{
    private const string Model = "mllama_tiny_56";

    private sealed class Fixture : IDisposable
    {
        public Fixture()
        {
            string path = Path.Combine(CheckpointFixtures.GoldenModel(Model), "model.safetensors");
            using var stream = File.OpenRead(path);
            FileLength = stream.Length;
            var prefix = new byte[8];
            stream.ReadExactly(prefix);
            long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            Header = new byte[headerLength];
            stream.ReadExactly(Header);
            CheckpointFixtures.CopyJsonFiles(Model, Temp.Path);
        }

        public TempDirectory Temp { get; } = new("mutation");

        public long FileLength { get; }

        public byte[] Header { get; }

        public string ModelPath => Temp.File("model.safetensors");

        /// <summary>Writes length prefix + header, then extends (sparse) or cuts the file to <paramref name="length"/>.</summary>
        public void WriteFile(ulong headerLengthField, ReadOnlySpan<byte> header, long length)
        {
            using var stream = new FileStream(ModelPath, FileMode.Create, FileAccess.Write);
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, headerLengthField);
            stream.Write(prefix);
            stream.Write(header);
            stream.SetLength(length);
        }

        public void Dispose() => Temp.Dispose();
    }

    /// <summary>Opens the mutated folder; returns null on success or the exception's description when it is not a format error.</summary>
    private static string? Check(Fixture f)
    {
        try
        {
            using (var file = SafeTensorsFile.Open(f.ModelPath))
            {
                var prefix = new byte[8];
                using (var raw = File.OpenRead(f.ModelPath))
                {
                    raw.ReadExactly(prefix);
                }
                long dataStart = 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(prefix);
                foreach (var t in file.Tensors)
                {
                    if (t.DataOffset < dataStart || t.DataOffset + t.ByteLength > file.FileLength)
                    {
                        return $"tensor {t.Name} [{t.DataOffset}, {t.DataOffset + t.ByteLength}) outside the data [{dataStart}, {file.FileLength})";
                    }
                    if (t.ByteLength <= 4096 && t.DType is SafeTensorDType.BF16 or SafeTensorDType.F16 or SafeTensorDType.F32 or SafeTensorDType.F64)
                    {
                        file.ReadSingles(t.Name);
                    }
                }
            }
            using var checkpoint = MllamaCheckpoint.Open(f.Temp.Path);
            foreach (string name in checkpoint.TensorNames)
            {
                var info = checkpoint.GetInfo(name);
                if (info.ByteLength <= 4096)
                {
                    checkpoint.ReadSingles(name);
                }
                else
                {
                    checkpoint.GetMatrix(name);
                }
            }
            return null;
        }
        catch (CheckpointFormatException)
        {
            return null;
        }
        catch (Exception e)
        {
            return e.ToString();
        }
    }

    private static readonly byte[] Interesting = "\"{}[],:0123456789-.eE \\"u8.ToArray().Concat(new byte[] { 0x00, 0x80, 0xC0, 0xFF, 0xED, 0xA0 }).ToArray();

    [Fact]
    public void Header_byte_edits_never_escape_as_other_exceptions()
    {
        using var f = new Fixture();
        var random = new Random(20261128);
        var failures = new List<string>();
        for (int iteration = 0; iteration < 2000; iteration++)
        {
            byte[] header = (byte[])f.Header.Clone();
            int edits = 1 + random.Next(4);
            var described = new StringBuilder();
            for (int e = 0; e < edits; e++)
            {
                int at = random.Next(header.Length);
                byte value = random.Next(2) == 0 ? (byte)random.Next(256) : Interesting[random.Next(Interesting.Length)];
                described.Append($"[{at}]={value:x2} ");
                header[at] = value;
            }
            f.WriteFile((ulong)header.Length, header, f.FileLength);
            if (Check(f) is string failure)
            {
                failures.Add($"iteration {iteration} edits {described}: {failure}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)));
    }

    [Fact]
    public void Header_length_edits_and_truncations_never_escape()
    {
        using var f = new Fixture();
        var random = new Random(56);
        var failures = new List<string>();
        ulong real = (ulong)f.Header.Length;
        ulong[] lengths = [0, 1, 7, 8, real - 1, real + 1, real + 8, real - 8, (ulong)f.FileLength, (ulong)f.FileLength - 8, (ulong)f.FileLength - 7,
            ulong.MaxValue, long.MaxValue, (ulong)long.MaxValue + 1, SafeTensorsFile.MaxHeaderBytes, SafeTensorsFile.MaxHeaderBytes + 1, uint.MaxValue];
        foreach (ulong length in lengths.Concat(Enumerable.Range(0, 300).Select(_ => (ulong)random.NextInt64(0, (long)real * 2))))
        {
            f.WriteFile(length, f.Header, f.FileLength);
            if (Check(f) is string failure)
            {
                failures.Add($"header length {length}: {failure}");
            }
        }
        // Truncations: inside the prefix, inside the header, inside the data, one byte short.
        long[] cuts = [0, 1, 7, 8, 9, 8 + (long)real - 1, 8 + (long)real, 8 + (long)real + 1, f.FileLength - 1, f.FileLength + 1];
        foreach (long cut in cuts.Concat(Enumerable.Range(0, 300).Select(_ => random.NextInt64(0, f.FileLength))))
        {
            using (var stream = new FileStream(f.ModelPath, FileMode.Create, FileAccess.Write))
            {
                stream.Write(BitConverter.GetBytes(real));
                stream.Write(f.Header);
                stream.SetLength(cut);
            }
            string? failure = Check(f);
            if (failure is not null)
            {
                failures.Add($"truncated to {cut}: {failure}");
            }
            else if (cut < f.FileLength && CanOpen(f))
            {
                failures.Add($"truncated to {cut}: opened although the last tensor is cut off");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)));
    }

    private static bool CanOpen(Fixture f)
    {
        try
        {
            using var file = SafeTensorsFile.Open(f.ModelPath);
            return true;
        }
        catch (CheckpointFormatException)
        {
            return false;
        }
    }

    /// <summary>Structured edits of one random tensor entry, each of which must be rejected.</summary>
    private static readonly (string Name, Action<JsonObject, JsonObject, Random, long> Edit)[] RejectedEdits =
    [
        ("end past the data", (entry, _, r, data) => entry["data_offsets"]![1] = data + 1 + r.Next(1000)),
        ("begin past end", (entry, _, _, _) => entry["data_offsets"]![0] = (long)entry["data_offsets"]![1]! + 2),
        ("negative begin", (entry, _, _, _) => entry["data_offsets"]![0] = -2),
        ("overlap", (entry, other, _, _) => { entry["data_offsets"] = other["data_offsets"]!.DeepClone(); entry["shape"] = other["shape"]!.DeepClone(); entry["dtype"] = other["dtype"]!.DeepClone(); }),
        ("unknown dtype", (entry, _, r, _) => entry["dtype"] = new[] { "Q4_0", "bf16", "F8_E4M3", "", "BF16 " }[r.Next(5)]),
        ("dtype with another size", (entry, _, r, _) => entry["dtype"] = new[] { "F32", "F64", "U8", "I64" }[r.Next(4)]),
        ("shape grown", (entry, _, r, _) => { var shape = entry["shape"]!.AsArray(); shape[r.Next(shape.Count)] = (long)shape[0]! + 1; }),
        ("shape huge", (entry, _, r, _) => { var shape = entry["shape"]!.AsArray(); shape[r.Next(shape.Count)] = long.MaxValue / (1 + r.Next(3)); }),
        ("shape negative", (entry, _, _, _) => entry["shape"]!.AsArray()[0] = -1),
        ("shape fractional", (entry, _, _, _) => entry["shape"]!.AsArray()[0] = 1.5),
        ("shape overflowing", (entry, _, _, _) => entry["shape"] = new JsonArray(4294967296L, 4294967296L, 4294967296L)),
        ("offsets as strings", (entry, _, _, _) => entry["data_offsets"] = new JsonArray("0", "2")),
        ("offsets of length 3", (entry, _, _, _) => entry["data_offsets"]!.AsArray().Add(5)),
        ("offsets fractional", (entry, _, _, _) => entry["data_offsets"]![0] = 0.5),
        ("offsets beyond int64", (entry, _, _, _) => entry["data_offsets"]![1] = JsonNode.Parse("18446744073709551616")),
        ("dtype missing", (entry, _, _, _) => entry.Remove("dtype")),
        ("shape missing", (entry, _, _, _) => entry.Remove("shape")),
        ("offsets missing", (entry, _, _, _) => entry.Remove("data_offsets")),
        ("shape not an array", (entry, _, _, _) => entry["shape"] = "[32]"),
        ("dtype not a string", (entry, _, _, _) => entry["dtype"] = 6),
    ];

    [Fact]
    public void Structured_header_edits_are_rejected_with_the_tensor_named()
    {
        using var f = new Fixture();
        var random = new Random(560);
        var failures = new List<string>();
        long dataLength = f.FileLength - 8 - f.Header.Length;
        var names = JsonNode.Parse(f.Header)!.AsObject().Select(p => p.Key).Where(k => k != "__metadata__").ToArray();
        for (int iteration = 0; iteration < 400; iteration++)
        {
            var root = JsonNode.Parse(f.Header)!.AsObject();
            var (editName, edit) = RejectedEdits[iteration % RejectedEdits.Length];
            string target = names[random.Next(names.Length)];
            string other = names.Where(n => n != target && (long)root[n]!["data_offsets"]![1]! > (long)root[n]!["data_offsets"]![0]!).ElementAt(random.Next(names.Length - 2));
            edit(root[target]!.AsObject(), root[other]!.AsObject(), random, dataLength);
            byte[] header = Encoding.UTF8.GetBytes(root.ToJsonString());
            // Keep the data region's length: only the edited entry is wrong.
            f.WriteFile((ulong)header.Length, header, 8 + header.Length + dataLength);
            try
            {
                using var checkpoint = MllamaCheckpoint.Open(f.Temp.Path);
                failures.Add($"iteration {iteration} '{editName}' on {target}: opened");
            }
            catch (CheckpointFormatException e)
            {
                // The overlap edit may be reported on either tensor of the pair.
                if (e.TensorName != target && !(editName == "overlap" && e.TensorName == other))
                {
                    failures.Add($"iteration {iteration} '{editName}' on {target}: error names '{e.TensorName}': {e.Message}");
                }
            }
            catch (Exception e)
            {
                failures.Add($"iteration {iteration} '{editName}' on {target}: {e}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)));
    }

    [Fact]
    public void Config_byte_edits_never_escape_as_other_exceptions()
    {
        using var temp = new TempDirectory("config-mutation");
        byte[] original = File.ReadAllBytes(Path.Combine(CheckpointFixtures.GoldenModel(Model), "config.json"));
        File.CreateSymbolicLink(temp.File("model.safetensors"), Path.Combine(CheckpointFixtures.GoldenModel(Model), "model.safetensors"));
        var random = new Random(4096);
        var failures = new List<string>();
        int opened = 0;
        for (int iteration = 0; iteration < 500; iteration++)
        {
            byte[] config = (byte[])original.Clone();
            var described = new StringBuilder();
            for (int e = 1 + random.Next(3); e > 0; e--)
            {
                int at = random.Next(config.Length);
                // Digits most often: they change sizes, layer counts and indices while the JSON stays valid.
                byte value = random.Next(3) == 0 ? (byte)random.Next(256) : (byte)"0123456789-"[random.Next(11)];
                described.Append($"[{at}]={value:x2} ");
                config[at] = value;
            }
            File.WriteAllBytes(temp.File("config.json"), config);
            try
            {
                using var checkpoint = MllamaCheckpoint.Open(temp.Path);
                opened++;
            }
            catch (CheckpointFormatException)
            {
            }
            catch (Exception e)
            {
                failures.Add($"iteration {iteration} edits {described}: {e}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(5)));
        // Edits in keys the loader ignores (generic PretrainedConfig keys) leave a loadable folder.
        Assert.InRange(opened, 1, 499);
    }

    [Fact]
    public void Unaligned_offsets_are_legal()
    {
        using var f = new Fixture();
        // Rewrite the golden tensors with a 1-byte gap before every tensor: offsets become odd, yet valid.
        var raw = CheckpointFixtures.ReadAll(Path.Combine(CheckpointFixtures.GoldenModel(Model), "model.safetensors"));
        var root = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "pt" } };
        long offset = 0;
        using var data = new MemoryStream();
        foreach (var t in raw)
        {
            data.WriteByte(0xAB);
            offset++;
            root[t.Name] = new JsonObject
            {
                ["dtype"] = t.DType.ToString(),
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + t.Data.Length),
            };
            data.Write(t.Data);
            offset += t.Data.Length;
        }
        byte[] header = Encoding.UTF8.GetBytes(root.ToJsonString());
        using (var stream = new FileStream(f.ModelPath, FileMode.Create, FileAccess.Write))
        {
            stream.Write(BitConverter.GetBytes((ulong)header.Length));
            stream.Write(header);
            data.Position = 0;
            data.CopyTo(stream);
        }
        using var golden = MllamaCheckpoint.Open(CheckpointFixtures.GoldenModel(Model));
        using var unaligned = MllamaCheckpoint.Open(f.Temp.Path);
        Assert.Contains(unaligned.TensorNames, n => unaligned.GetInfo(n).DataOffset % 2 == 1);
        foreach (string name in golden.TensorNames)
        {
            Assert.Equal(golden.ReadSingles(name), unaligned.ReadSingles(name));
        }
    }
}
