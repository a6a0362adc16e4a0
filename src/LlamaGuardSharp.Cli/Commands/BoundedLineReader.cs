using System.Text;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>One line of a JSON Lines input: its 1-based number and either its text or why it cannot be used.</summary>
internal readonly record struct InputLine(int Number, string? Text, string? Error);

/// <summary>
/// Reads a stream line by line with a limit on each line's length, decoding strict UTF-8. A line over the limit is
/// reported as that line's error as soon as the limit is passed and skipped up to its newline (its bytes are never
/// held), so a stream without newlines — <c>/dev/zero</c>, a hostile pipe — cannot make memory grow, and the lines
/// after a bad one are still read.
/// </summary>
internal sealed class BoundedLineReader(Stream stream, int maxLineBytes)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _eof;
    private int _number;
    private bool _skipping;
    private byte[] _line = new byte[4096];

    /// <summary>The next line (without its <c>\n</c> or <c>\r\n</c>), or null at the end of the stream.</summary>
    /// <remarks>
    /// A line over the limit is reported as soon as the limit is passed (so a stream that never sends a newline still
    /// gets its answer); the rest of that line is skipped at the start of the next call.
    /// </remarks>
    public async ValueTask<InputLine?> ReadLineAsync(CancellationToken cancellationToken)
    {
        if (_skipping && !await SkipPastNewlineAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        int length = 0;
        bool any = false;
        while (true)
        {
            if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                return any ? Finish(length, tooLong: false) : null;
            }
            any = true;
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            int take = (newline < 0 ? _end : newline) - _start;
            if (length + take > maxLineBytes)
            {
                _skipping = true; // the rest of this line, up to its newline, is discarded by the next call
                return Finish(length, tooLong: true);
            }
            if (length + take > _line.Length)
            {
                Array.Resize(ref _line, Math.Min(Math.Max(_line.Length * 2, length + take), maxLineBytes));
            }
            Buffer.BlockCopy(_buffer, _start, _line, length, take);
            length += take;
            if (newline < 0)
            {
                _start = _end;
                continue;
            }
            _start = newline + 1;
            return Finish(length, tooLong: false);
        }
    }

    /// <summary>Discards input up to and including the next newline; false at the end of the stream.</summary>
    private async ValueTask<bool> SkipPastNewlineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_start == _end && !await FillAsync(cancellationToken).ConfigureAwait(false))
            {
                return false;
            }
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                _start = newline + 1;
                _skipping = false;
                return true;
            }
            _start = _end;
        }
    }

    /// <summary>Reads the next block into the buffer; false at the end of the stream.</summary>
    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_eof)
        {
            return false;
        }
        _start = 0;
        // A read from a pipe or terminal may block without honouring the token; waiting on it with the token lets
        // cancellation (SIGTERM, Ctrl+C) end the command even while no writer sends anything.
        _end = await stream.ReadAsync(_buffer, cancellationToken).AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        _eof = _end == 0;
        return !_eof;
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
