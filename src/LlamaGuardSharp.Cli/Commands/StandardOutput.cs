using System.Runtime.InteropServices;
using System.Text;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// Standard output was closed by its reader (EPIPE: e.g. <c>llamaguard classify --input big.jsonl | head -1</c>).
/// Nothing more can be delivered, so the command stops at once instead of classifying into the void.
/// </summary>
internal sealed class StandardOutputClosedException(Exception? inner = null)
    : IOException("standard output was closed by its reader (broken pipe); stopped", inner);

/// <summary>
/// A writer for the process's standard output that reports a closed pipe. .NET's console stream drops writes that fail
/// with EPIPE silently, so a command would go on working for a reader that is gone; this one writes with
/// <c>write(2)</c> on Unix and throws <see cref="StandardOutputClosedException"/> instead. Each line is flushed, so a
/// reader sees results as they are made and a closed pipe is noticed at the next line.
/// </summary>
internal static partial class StandardOutput
{
    private const int Eintr = 4;
    private const int Eagain = 11;
    private const int Epipe = 32;

    public static TextWriter Create()
    {
        Stream stream = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()
            ? new FileDescriptorStream(1)
            : new ClosedPipeReportingStream(Console.OpenStandardOutput());
        return new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 4096) { AutoFlush = true };
    }

    /// <summary>Writes straight to a file descriptor, turning EPIPE into <see cref="StandardOutputClosedException"/>.</summary>
    private sealed class FileDescriptorStream(int fd) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override unsafe void Write(ReadOnlySpan<byte> buffer)
        {
            fixed (byte* start = buffer)
            {
                int done = 0;
                while (done < buffer.Length)
                {
                    nint written = WriteNative(fd, start + done, buffer.Length - done);
                    if (written >= 0)
                    {
                        done += (int)written;
                        continue;
                    }
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Eintr)
                    {
                        continue;
                    }
                    if (errno == Eagain)
                    {
                        Thread.Sleep(1); // a non-blocking descriptor inherited from the parent: wait for room
                        continue;
                    }
                    if (errno == Epipe)
                    {
                        throw new StandardOutputClosedException();
                    }
                    throw new IOException($"cannot write to standard output (errno {errno})");
                }
            }
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>Elsewhere: the console stream, with any write failure reported as a closed output.</summary>
    private sealed class ClosedPipeReportingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count)
        {
            try
            {
                inner.Write(buffer, offset, count);
            }
            catch (IOException e)
            {
                throw new StandardOutputClosedException(e);
            }
        }

        public override void Flush()
        {
            try
            {
                inner.Flush();
            }
            catch (IOException e)
            {
                throw new StandardOutputClosedException(e);
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint WriteNative(int fd, byte* buffer, nint count);
}
