using System.Text;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>One line of a JSON Lines input: its 1-based number and either its text or why it cannot be used.</summary>
internal readonly record struct InputLine(int Number, string? Text, string? Error);

/// <summary>
/// Reads a stream line by line with a limit on each line's length, decoding strict UTF-8. A line over the limit is
/// skipped up to its newline and reported as that line's error (its bytes are never held), so a stream without
/// newlines — <c>/dev/zero</c>, a hostile pipe — cannot make memory grow, and the lines after a bad one are still read.
/// </summary>
internal sealed class BoundedLineReader(Stream stream, int maxLineBytes)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _eof;
    private int _number;
    private byte[] _line = new byte[4096];

    /// <summary>The next line (without its <c>\n</c> or <c>\r\n</c>), or null at the end of the stream.</summary>
    public async ValueTask<InputLine?> ReadLineAsync(CancellationToken cancellationToken)
    {
        int length = 0;
        bool tooLong = false;
        bool any = false;
        while (true)
        {
            if (_start == _end)
            {
                if (_eof)
                {
                    return any ? Finish(length, tooLong) : null;
                }
                _start = 0;
                // A read from a pipe or terminal may block without honouring the token; waiting on it with the token
                // lets cancellation (SIGTERM, Ctrl+C) end the command even while no writer sends anything.
                _end = await stream.ReadAsync(_buffer, cancellationToken).AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
                if (_end == 0)
                {
                    _eof = true;
                    continue;
                }
            }
            any = true;
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            int take = (newline < 0 ? _end : newline) - _start;
            if (!tooLong)
            {
                if (length + take > maxLineBytes)
                {
                    tooLong = true;
                }
                else
                {
                    if (length + take > _line.Length)
                    {
                        Array.Resize(ref _line, Math.Min(Math.Max(_line.Length * 2, length + take), maxLineBytes));
                    }
                    Buffer.BlockCopy(_buffer, _start, _line, length, take);
                    length += take;
                }
            }
            if (newline < 0)
            {
                _start = _end;
                continue;
            }
            _start = newline + 1;
            return Finish(length, tooLong);
        }
    }

    private InputLine Finish(int length, bool tooLong)
    {
        _number++;
        if (tooLong)
        {
            return new InputLine(_number, null, $"the line is longer than the limit of {maxLineBytes:N0} bytes");
        }
        ReadOnlySpan<byte> bytes = _line.AsSpan(0, length);
        if (bytes.EndsWith("\r"u8))
        {
            bytes = bytes[..^1];
        }
        if (_number == 1 && bytes.StartsWith("\uFEFF"u8))
        {
            bytes = bytes[3..];
        }
        if (_line.Length > 1 << 20 && length < 4096)
        {
            _line = new byte[4096]; // give back the memory of one long line
        }
        try
        {
            return new InputLine(_number, StrictUtf8.GetString(bytes), null);
        }
        catch (DecoderFallbackException e)
        {
            return new InputLine(_number, null, $"the line is not valid UTF-8 ({e.Message})");
        }
    }
}
