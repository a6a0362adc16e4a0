using System.Text.Json;

namespace LlamaGuardSharp.Checkpoints;

/// <summary>The name, type and shape of a tensor to be written.</summary>
internal sealed record TensorSpec(string Name, SafeTensorDType DType, long[] Shape)
{
    public long ByteLength => Shape.Aggregate(1L, (a, b) => checked(a * b)) * SafeTensorDTypes.SizeOf(DType);
}

/// <summary>
/// Writes safetensors files in the layout transformers' <c>save_pretrained</c> produces: an 8-byte little-endian
/// header length, a compact JSON header padded with spaces to a multiple of 8, then the tensors back to back in
/// the given order. Data is streamed, so multi-gigabyte shards never sit in memory.
/// </summary>
internal static class SafeTensorsWriter
{
    /// <summary>Writes small in-memory tensors.</summary>
    public static void Write(string path, IEnumerable<(TensorSpec Spec, ReadOnlyMemory<byte> Data)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        int next = 0; // writeData is called once per tensor, in order
        Write(path, list.Select(t => t.Spec).ToList(), (_, stream) => stream.Write(list[next++].Data.Span), metadata);
    }

    /// <summary>
    /// Writes a header for <paramref name="specs"/>, then calls <paramref name="writeData"/> once per tensor, in order,
    /// to stream exactly <see cref="TensorSpec.ByteLength"/> bytes (checked).
    /// </summary>
    public static void Write(string path, IReadOnlyList<TensorSpec> specs, Action<TensorSpec, Stream> writeData, IReadOnlyDictionary<string, string>? metadata = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(specs);
        ArgumentNullException.ThrowIfNull(writeData);
        byte[] header = BuildHeader(specs, metadata);
        long total = 8 + header.Length + specs.Sum(s => s.ByteLength);
        // Preallocating (fallocate) lets the file system lay the multi-gigabyte shard out in one go.
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 1 << 20,
            PreallocationSize = total,
        });
        stream.Write(BitConverter.GetBytes((ulong)header.Length));
        stream.Write(header);
        foreach (var spec in specs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long before = stream.Position;
            writeData(spec, stream);
            long written = stream.Position - before;
            if (written != spec.ByteLength)
            {
                throw new InvalidOperationException($"Tensor '{spec.Name}': wrote {written} bytes, expected {spec.ByteLength}.");
            }
        }
    }

    internal static byte[] BuildHeader(IReadOnlyList<TensorSpec> specs, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var spec in specs)
            {
                if (!names.Add(spec.Name))
                {
                    throw new ArgumentException($"Tensor '{spec.Name}' is listed twice.");
                }
                json.WriteStartObject(spec.Name);
                json.WriteString("dtype", spec.DType.ToString());
                json.WriteStartArray("shape");
                foreach (long d in spec.Shape)
                {
                    json.WriteNumberValue(d);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += spec.ByteLength;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        int padded = (int)((buffer.Length + 7) / 8 * 8);
        byte[] header = Enumerable.Repeat((byte)' ', padded).ToArray();
        buffer.ToArray().CopyTo(header, 0);
        return header;
    }
}
