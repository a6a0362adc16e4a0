using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;
using LlamaGuardSharp.Compute;
using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Checkpoints;

/// <summary>
/// A safetensors file opened read-only through a memory map. Tensors are used in place (no copy): the 21 GB
/// checkpoint only fits in 24 GiB this way. The header is validated completely at open time, so every later
/// access is in bounds: header length, JSON shape, dtypes, shapes, byte lengths and non-overlapping offsets
/// that lie inside the file.
/// </summary>
internal sealed unsafe class SafeTensorsFile : IDisposable
{
    /// <summary>Largest header accepted (the reference Rust implementation uses the same 100 MB bound).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;
    private readonly Dictionary<string, TensorInfo> _tensors;
    private bool _disposed;

    private SafeTensorsFile(string path, long length, MemoryMappedFile? map, MemoryMappedViewAccessor? view, byte* basePointer,
        Dictionary<string, TensorInfo> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        FilePath = path;
        FileLength = length;
        _map = map;
        _view = view;
        _base = basePointer;
        _tensors = tensors;
        Metadata = metadata;
    }

    public string FilePath { get; }

    public long FileLength { get; }

    /// <summary>The optional <c>__metadata__</c> string map of the header.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>All tensors, in header order of their data offsets.</summary>
    public IEnumerable<TensorInfo> Tensors => _tensors.Values.OrderBy(t => t.DataOffset);

    public IEnumerable<string> TensorNames => _tensors.Keys;

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public bool TryGetInfo(string name, out TensorInfo info) => _tensors.TryGetValue(name, out info!);

    public TensorInfo GetInfo(string name) =>
        _tensors.TryGetValue(name, out var info) ? info : throw new CheckpointFormatException(FilePath, name, "tensor not found in this file");

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string full = Path.GetFullPath(path);
        if (!File.Exists(full) && !System.IO.Directory.Exists(full))
        {
            throw new FileNotFoundException($"Safetensors file not found: {full}", full);
        }
        // Memory-mapped, so only a regular file will do: a FIFO would block in open, a device has no length.
        BoundedFile.EnsureRegularFile(full, "safetensors file");
        var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        long length = stream.Length;
        if (length < 8)
        {
            stream.Dispose();
            throw new CheckpointFormatException(full, null, $"file is {length} bytes, shorter than the 8-byte header length prefix");
        }
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        byte* basePointer = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
            basePointer += view.PointerOffset;
            var (tensors, metadata) = ParseHeader(full, new ReadOnlySpan<byte>(basePointer, (int)Math.Min(length, int.MaxValue)), length);
            return new SafeTensorsFile(full, length, map, view, basePointer, tensors, metadata);
        }
        catch
        {
            if (basePointer != null)
            {
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            }
            view?.Dispose();
            map?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Parses and validates a header. <paramref name="prefix"/> holds at least the first 8 + header bytes when valid.</summary>
    internal static (Dictionary<string, TensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata) ParseHeader(
        string file, ReadOnlySpan<byte> prefix, long fileLength)
    {
        ulong headerLength = BitConverter.ToUInt64(prefix[..8]);
        if (headerLength == 0 || headerLength > MaxHeaderBytes)
        {
            throw new CheckpointFormatException(file, null, $"header length {headerLength} is outside 1..{MaxHeaderBytes} bytes");
        }
        if ((long)headerLength > fileLength - 8)
        {
            throw new CheckpointFormatException(file, null, $"header length {headerLength} runs past the end of the {fileLength}-byte file");
        }
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;
        ReadOnlySpan<byte> headerBytes = prefix.Slice(8, (int)headerLength);
        // System.Text.Json accepts invalid UTF-8 inside strings at parse time and only fails (InvalidOperationException)
        // when a name is read, so check the encoding up front.
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes))
        {
            throw new CheckpointFormatException(file, null, "header is not valid UTF-8");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(file, null, $"header is not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(file, null, "header is not a JSON object");
            }
            var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                    {
                        throw new CheckpointFormatException(file, null, "__metadata__ is not an object");
                    }
                    foreach (var entry in property.Value.EnumerateObject())
                    {
                        if (entry.Value.ValueKind != JsonValueKind.String)
                        {
                            throw new CheckpointFormatException(file, null, $"__metadata__ value '{entry.Name}' is not a string");
                        }
                        metadata[entry.Name] = entry.Value.GetString()!;
                    }
                    continue;
                }
                if (tensors.ContainsKey(property.Name))
                {
                    throw new CheckpointFormatException(file, property.Name, "tensor is listed twice in the header");
                }
                tensors[property.Name] = ParseEntry(file, property.Name, property.Value, dataStart, dataLength);
            }
            CheckOverlaps(file, tensors.Values);
            return (tensors, metadata);
        }
    }

    private static TensorInfo ParseEntry(string file, string name, JsonElement entry, long dataStart, long dataLength)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointFormatException(file, name, "header entry is not an object");
        }
        if (!entry.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new CheckpointFormatException(file, name, "missing or non-string 'dtype'");
        }
        string dtypeText = dtypeElement.GetString()!;
        if (!SafeTensorDTypes.TryParse(dtypeText, out var dtype))
        {
            throw new CheckpointFormatException(file, name, $"unknown dtype '{dtypeText}'");
        }
        if (!entry.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new CheckpointFormatException(file, name, "missing or non-array 'shape'");
        }
        var shape = new long[shapeElement.GetArrayLength()];
        long count = 1;
        int i = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long d) || d < 0)
            {
                throw new CheckpointFormatException(file, name, $"shape dimension {i} is not a non-negative integer");
            }
            shape[i++] = d;
            try
            {
                count = checked(count * d);
            }
            catch (OverflowException)
            {
                throw new CheckpointFormatException(file, name, "shape element count overflows");
            }
        }
        if (!entry.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            throw new CheckpointFormatException(file, name, "missing 'data_offsets' [begin, end]");
        }
        var pair = offsets.EnumerateArray().ToArray();
        // TryGetInt64 throws on non-numbers, so check the kind first.
        if (pair[0].ValueKind != JsonValueKind.Number || pair[1].ValueKind != JsonValueKind.Number
            || !pair[0].TryGetInt64(out long begin) || !pair[1].TryGetInt64(out long end) || begin < 0 || end < begin)
        {
            throw new CheckpointFormatException(file, name, "data_offsets must be integers with 0 <= begin <= end");
        }
        if (end > dataLength)
        {
            throw new CheckpointFormatException(file, name, $"data_offsets [{begin}, {end}] run past the end of the data ({dataLength} bytes; file truncated?)");
        }
        long expected;
        try
        {
            expected = checked(count * SafeTensorDTypes.SizeOf(dtype));
        }
        catch (OverflowException)
        {
            throw new CheckpointFormatException(file, name, "byte length overflows");
        }
        if (end - begin != expected)
        {
            throw new CheckpointFormatException(file, name,
                $"holds {end - begin} bytes but shape [{string.Join(", ", shape)}] of {dtype} needs {expected}");
        }
        return new TensorInfo(name, dtype, shape, dataStart + begin, end - begin);
    }

    private static void CheckOverlaps(string file, IEnumerable<TensorInfo> tensors)
    {
        TensorInfo? previous = null;
        foreach (var t in tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.DataOffset))
        {
            if (previous is not null && t.DataOffset < previous.DataOffset + previous.ByteLength)
            {
                throw new CheckpointFormatException(file, t.Name, $"data overlaps tensor '{previous.Name}'");
            }
            previous = t;
        }
    }

    /// <summary>Pointer to the first byte of a tensor inside the map (valid until <see cref="Dispose"/>).</summary>
    public void* GetPointer(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _base + GetInfo(name).DataOffset;
    }

    /// <summary>The raw little-endian bytes of a tensor (tensors over 2 GB are rejected; none exists in Mllama).</summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        var info = GetInfo(name);
        if (info.ByteLength > int.MaxValue)
        {
            throw new CheckpointFormatException(FilePath, name, "tensor is larger than 2 GB and cannot be viewed as one span");
        }
        return new ReadOnlySpan<byte>(GetPointer(name), (int)info.ByteLength);
    }

    /// <summary>A copy of a floating-point tensor widened to float32 (small tensors: norms, biases, embeddings rows, goldens).</summary>
    public float[] ReadSingles(string name)
    {
        var info = GetInfo(name);
        var bytes = GetBytes(name);
        var result = new float[info.ElementCount];
        switch (info.DType)
        {
            case SafeTensorDType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(result);
                break;
            case SafeTensorDType.BF16:
                Bf16.ToSingle(MemoryMarshal.Cast<byte, ushort>(bytes), result);
                break;
            case SafeTensorDType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < halves.Length; i++)
                {
                    result[i] = (float)halves[i];
                }
                break;
            case SafeTensorDType.F64:
                var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                for (int i = 0; i < doubles.Length; i++)
                {
                    result[i] = (float)doubles[i];
                }
                break;
            default:
                throw new CheckpointFormatException(FilePath, name, $"dtype {info.DType} is not a floating-point type");
        }
        return result;
    }

    /// <summary>A copy of an integer tensor as int64.</summary>
    public long[] ReadInt64(string name)
    {
        var info = GetInfo(name);
        var bytes = GetBytes(name);
        return info.DType switch
        {
            SafeTensorDType.I64 => MemoryMarshal.Cast<byte, long>(bytes).ToArray(),
            SafeTensorDType.I32 => MemoryMarshal.Cast<byte, int>(bytes).ToArray().Select(v => (long)v).ToArray(),
            SafeTensorDType.U8 or SafeTensorDType.BOOL => bytes.ToArray().Select(v => (long)v).ToArray(),
            _ => throw new CheckpointFormatException(FilePath, name, $"dtype {info.DType} is not an integer type"),
        };
    }

    /// <summary>
    /// The tensor as a weight matrix used in place: rows = shape[0], cols = product of the other dimensions
    /// (a Conv2d weight [out, c, kh, kw] becomes [out, c·kh·kw]; a vector becomes one row).
    /// </summary>
    public WeightMatrix GetMatrix(string name)
    {
        var info = GetInfo(name);
        WeightType type = info.DType switch
        {
            SafeTensorDType.BF16 => WeightType.BF16,
            SafeTensorDType.F16 => WeightType.F16,
            SafeTensorDType.F32 => WeightType.F32,
            _ => throw new CheckpointFormatException(FilePath, name, $"dtype {info.DType} cannot be used as a weight matrix"),
        };
        long rows = info.Shape.Length == 0 ? 1 : (info.Shape.Length == 1 ? 1 : info.Shape[0]);
        long cols = rows == 0 ? 0 : info.ElementCount / Math.Max(rows, 1);
        if (rows <= 0 || cols <= 0 || rows > int.MaxValue || cols > int.MaxValue)
        {
            throw new CheckpointFormatException(FilePath, name, $"shape {info.ShapeText} cannot be used as a weight matrix");
        }
        return new WeightMatrix(GetPointer(name), (int)rows, (int)cols, type, this);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }

    /// <summary>Describes the file for diagnostics.</summary>
    public override string ToString() => $"{FilePath} ({_tensors.Count} tensors, {FileLength} bytes)";
}
