using System.Text;

namespace LlamaGuardSharp.IO;

/// <summary>
/// The one way the library reads a whole input file (image, config, tokenizer, category table, prompt): regular files
/// only — a directory, FIFO, socket or device is refused by its kind before it is opened, so nothing blocks on a pipe
/// without a writer or reads <c>/dev/zero</c> forever — and at most a documented number of bytes, counted while reading
/// (the reported length of a file is not trusted: it may grow, or be sparse). Every failure is an
/// <see cref="InputFileException"/> whose message names the kind of file, the path and the problem.
/// </summary>
/// <remarks>The limits of each kind of file are in docs/limits.md; the constants here are their one home.</remarks>
public static class BoundedFile
{
    /// <summary>Largest JSON configuration file (config.json, preprocessor_config.json, generation_config.json, …): 4 MiB.</summary>
    public const long MaxConfigBytes = 4L << 20;

    /// <summary>Largest shard index (model.safetensors.index.json): 64 MiB.</summary>
    public const long MaxIndexBytes = 64L << 20;

    /// <summary>Largest tokenizer file (tokenizer.json ≈ 9 MB, tokenizer.model ≈ 2 MB): 64 MiB.</summary>
    public const long MaxTokenizerBytes = 64L << 20;

    /// <summary>Largest category table (safety policy JSON): 1 MiB.</summary>
    public const long MaxPolicyBytes = 1L << 20;

    /// <summary>
    /// Largest small Hub file read whole — a hub-cache ref (<c>refs/main</c>, a 40-character commit sha), the token
    /// file, a <c>--local-dir</c> download's <c>.metadata</c> file: 4 KiB.
    /// </summary>
    public const long MaxRefBytes = 4L << 10;

    /// <summary>Largest text input read whole (a raw prompt file, <c>tokenize</c>'s standard input): 16 MiB.</summary>
    public const long MaxTextBytes = 16L << 20;

    /// <summary>Reads a whole regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The limit, checked as bytes arrive.</param>
    /// <param name="description">What the file is, for messages (e.g. <c>"image file"</c>).</param>
    /// <exception cref="FileNotFoundException">nothing at <paramref name="path"/>.</exception>
    /// <exception cref="InputFileException">not a regular file, too large or unreadable.</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes, string description)
    {
        using var stream = OpenRegularFile(path, description);
        var reader = new Accumulator(stream, maxBytes, path, description);
        while (true)
        {
            int read;
            try
            {
                read = stream.Read(reader.Free.Span);
            }
            catch (IOException e)
            {
                throw Unreadable(path, description, e);
            }
            if (reader.Add(read))
            {
                return reader.Result();
            }
        }
    }

    /// <inheritdoc cref="ReadAllBytes"/>
    public static async Task<byte[]> ReadAllBytesAsync(string path, long maxBytes, string description, CancellationToken cancellationToken = default)
    {
        await using var stream = OpenRegularFile(path, description);
        var reader = new Accumulator(stream, maxBytes, path, description);
        while (true)
        {
            int read;
            try
            {
                read = await stream.ReadAsync(reader.Free, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                throw Unreadable(path, description, e);
            }
            if (reader.Add(read))
            {
                return reader.Result();
            }
        }
    }

    /// <summary>Reads a whole regular file as strict UTF-8 text (a leading byte-order mark is dropped).</summary>
    /// <exception cref="InputFileException">as <see cref="ReadAllBytes"/>, or the bytes are not UTF-8.</exception>
    public static string ReadAllText(string path, long maxBytes, string description) =>
        DecodeUtf8(ReadAllBytes(path, maxBytes, description), path, description);

    /// <inheritdoc cref="ReadAllText"/>
    public static async Task<string> ReadAllTextAsync(string path, long maxBytes, string description, CancellationToken cancellationToken = default) =>
        DecodeUtf8(await ReadAllBytesAsync(path, maxBytes, description, cancellationToken).ConfigureAwait(false), path, description);

    /// <summary>
    /// Opens a regular file for reading after checking its kind without opening it (so a FIFO never blocks the caller),
    /// and checks the opened handle again (the path may have been replaced in between).
    /// </summary>
    /// <exception cref="InputFileException">missing, a directory, not a regular file, or cannot be opened.</exception>
    public static FileStream OpenRegularFile(string path, string description)
    {
        EnsureRegularFile(path, description);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw e is FileNotFoundException or DirectoryNotFoundException
                ? NotFound(path, description, e)
                : Unreadable(path, description, e);
        }
        FileKind opened = FileKinds.Of(stream.SafeFileHandle);
        if (opened != FileKind.Regular)
        {
            stream.Dispose();
            throw NotRegular(opened, path, description);
        }
        return stream;
    }

    /// <summary>Checks that <paramref name="path"/> names a regular file (following symbolic links) without opening it.</summary>
    /// <exception cref="InputFileException">missing, a directory, a FIFO, socket or device, or inaccessible.</exception>
    public static void EnsureRegularFile(string path, string description)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(description);
        FileKind kind = FileKinds.Of(path);
        switch (kind)
        {
            case FileKind.Regular:
                return;
            case FileKind.Missing:
                throw NotFound(path, description, null);
            case FileKind.Inaccessible:
                throw new InputFileException(InputFileProblem.Unreadable, description, path, "cannot be accessed (permission denied)");
            default:
                throw NotRegular(kind, path, description);
        }
    }

    private static InputFileException NotRegular(FileKind kind, string path, string description) => kind == FileKind.Directory
        ? new InputFileException(InputFileProblem.IsDirectory, description, path, "is a directory, expected a file")
        : new InputFileException(InputFileProblem.NotRegularFile, description, path, $"is {FileKinds.Describe(kind)}, expected a regular file");

    internal static FileNotFoundException NotFound(string path, string description, Exception? inner, string detail = "not found") =>
        new($"{description} {path}: {detail}", path, inner);

    private static InputFileException Unreadable(string path, string description, Exception e) =>
        new(InputFileProblem.Unreadable, description, path, $"cannot be read ({e.Message})", e);

    /// <summary>
    /// The bytes of one read-whole, shared by the sync and async loops: a buffer of the reported length (capped by the
    /// limit; it is a hint, never the check), filled; when full, one more byte is probed — end of file returns the buffer
    /// as it is (no copy), a byte past the limit is <see cref="InputFileProblem.TooLarge"/>, any other byte grows it.
    /// Invariant: <c>_length &lt;= _buffer.Length &lt;= _maxBytes</c>.
    /// </summary>
    private sealed class Accumulator
    {
        private readonly long _maxBytes;
        private readonly string _path;
        private readonly string _description;
        private readonly byte[] _probe = new byte[1];
        private byte[] _buffer;
        private int _length;

        public Accumulator(FileStream stream, long maxBytes, string path, string description)
        {
            _maxBytes = maxBytes;
            _path = path;
            _description = description;
            long reported;
            try
            {
                reported = stream.Length;
            }
            catch (IOException)
            {
                reported = 0;
            }
            if (reported > maxBytes)
            {
                // A file that already reports more bytes than the limit holds at least that many (sparse or not).
                throw TooLarge(maxBytes, path, description);
            }
            long cap = Math.Min(Math.Min(maxBytes, Array.MaxLength), 64L << 20);
            // A reported length of 0 (procfs and other synthetic files) says nothing: start small.
            _buffer = new byte[Math.Min(reported > 0 ? reported : 4096, cap)];
        }

        /// <summary>Where the next read goes: the rest of the buffer, or the one-byte probe once it is full.</summary>
        public Memory<byte> Free => _length < _buffer.Length ? _buffer.AsMemory(_length) : _probe;

        /// <summary>Takes <paramref name="read"/> bytes just read into <see cref="Free"/>; true at end of file.</summary>
        public bool Add(int read)
        {
            if (read == 0)
            {
                return true;
            }
            if (_length < _buffer.Length)
            {
                _length += read; // the buffer never exceeds the limit, so only a probed byte can pass it
                return false;
            }
            if ((long)_length + 1 > _maxBytes)
            {
                throw TooLarge(_maxBytes, _path, _description);
            }
            long next = Math.Min(Math.Min(Math.Max((long)_buffer.Length * 2, _length + 1L), _maxBytes), Array.MaxLength);
            if (next <= _length)
            {
                throw TooLarge(_maxBytes, _path, _description);
            }
            Array.Resize(ref _buffer, (int)next);
            _buffer[_length++] = _probe[0];
            return false;
        }

        /// <summary>The bytes read: the buffer itself when the file filled it exactly (the usual case), else a copy.</summary>
        public byte[] Result() => _length == _buffer.Length ? _buffer : _buffer.AsSpan(0, _length).ToArray();
    }

    private static InputFileException TooLarge(long maxBytes, string path, string description) =>
        new(InputFileProblem.TooLarge, description, path, $"is larger than the limit of {FormatBytes(maxBytes)}");

    /// <summary>e.g. <c>20 MiB (20,971,520 bytes)</c>, or <c>1,000 bytes</c> below a KiB.</summary>
    public static string FormatBytes(long bytes)
    {
        var c = System.Globalization.CultureInfo.InvariantCulture;
        if (bytes >= 1 << 20 && bytes % (1 << 20) == 0)
        {
            return string.Format(c, "{0} MiB ({1:N0} bytes)", bytes >> 20, bytes);
        }
        if (bytes >= 1 << 10 && bytes % (1 << 10) == 0)
        {
            return string.Format(c, "{0} KiB ({1:N0} bytes)", bytes >> 10, bytes);
        }
        return string.Format(c, "{0:N0} bytes", bytes);
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string DecodeUtf8(byte[] bytes, string path, string description)
    {
        ReadOnlySpan<byte> span = bytes;
        if (span.StartsWith("\uFEFF"u8))
        {
            span = span[3..];
        }
        try
        {
            return StrictUtf8.GetString(span);
        }
        catch (DecoderFallbackException e)
        {
            throw new InputFileException(InputFileProblem.NotText, description, path, $"is not valid UTF-8 text ({e.Message})", e);
        }
    }
}
