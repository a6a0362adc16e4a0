using System.Buffers;
using System.Text;
using LlamaGuardSharp.IO;

namespace LlamaGuardSharp.Tokenization;

/// <summary>
/// The Llama 3 / Llama 3.2 Vision byte-level BPE tokenizer (tiktoken-style): special-token matching (optional), the Llama 3
/// pre-tokenisation pattern (<see cref="Llama3PreTokenizer"/>), UTF-8 bytes, rank-based merges. Never adds BOS; no normalisation.
/// Immutable after loading and safe to share between threads.
/// </summary>
/// <remarks>
/// Meta's tokenizer.py additionally pre-cuts inputs at 400,000 characters and at runs of more than 25,000 whitespace or
/// non-whitespace characters; HF does not, and neither does this class (the difference only shows on such pathological inputs).
/// </remarks>
public sealed class Llama3Tokenizer
{
    private const int StackBytes = 512;

    private readonly TokenByteTable _vocabulary;
    private readonly PairMergeTable _merges;
    private readonly SpecialTokenMatcher _specialMatcher;
    private readonly Dictionary<string, int> _specialIdsByText;
    private readonly Dictionary<int, byte[]> _specialBytesById;
    private readonly PreTokenCache _cache = new(8192);

    private Llama3Tokenizer(TokenizerDefinition definition)
    {
        _vocabulary = definition.Vocabulary;
        _merges = definition.Merges;
        VocabularySize = definition.VocabularySize;
        SourcePath = definition.SourcePath;
        _specialMatcher = new SpecialTokenMatcher(definition.SpecialTokens);
        _specialIdsByText = definition.SpecialTokens.Where(s => s.Encodable).ToDictionary(s => s.Content, s => s.Id, StringComparer.Ordinal);
        _specialBytesById = new Dictionary<int, byte[]>();
        foreach (SpecialToken s in definition.SpecialTokens)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(s.Content);
            // An added token may repeat an ordinary vocab entry with the same text (some tokenizer.json files do); any other
            // reuse of an id would make decoding ambiguous.
            bool sameAsVocabulary = _vocabulary.Contains(s.Id) && _vocabulary.GetBytes(s.Id).SequenceEqual(bytes);
            if (!_specialBytesById.TryAdd(s.Id, bytes) || (_vocabulary.Contains(s.Id) && !sameAsVocabulary))
            {
                throw new TokenizerFormatException(definition.SourcePath, $"special token id {s.Id} ('{s.Content}') is already used");
            }
        }
    }

    /// <summary>Number of ids (ordinary and special): 128,257 for Llama 3.2 Vision (ids 0..128256).</summary>
    public int VocabularySize { get; }


    /// <summary>The file the tokenizer was loaded from.</summary>
    public string SourcePath { get; }

    /// <summary>
    /// Loads an HF <c>tokenizer.json</c>, a tiktoken <c>tokenizer.model</c>, or a directory containing either (tokenizer.json is
    /// preferred; <c>original/tokenizer.model</c> is also looked at). The format of a file is recognised from its content.
    /// </summary>
    /// <exception cref="TokenizerFormatException">The file is missing, malformed or not a Llama 3 tokenizer.</exception>
    public static Llama3Tokenizer Load(string path)
    {
        string file = ResolveFile(path);
        byte[] content;
        try
        {
            content = BoundedFile.ReadAllBytes(file, BoundedFile.MaxTokenizerBytes, "tokenizer");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerFormatException(file, $"cannot be read ({e.Message})", e);
        }
        return FromContent(file, content);
    }

    /// <inheritdoc cref="Load(string)"/>
    public static async Task<Llama3Tokenizer> LoadAsync(string path, CancellationToken ct = default)
    {
        string file = ResolveFile(path);
        byte[] content;
        try
        {
            content = await BoundedFile.ReadAllBytesAsync(file, BoundedFile.MaxTokenizerBytes, "tokenizer", ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerFormatException(file, $"cannot be read ({e.Message})", e);
        }
        ct.ThrowIfCancellationRequested();
        return await Task.Run(() => FromContent(file, content), ct).ConfigureAwait(false);
    }

    private static string ResolveFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path))
        {
            foreach (string candidate in new[] { "tokenizer.json", "tokenizer.model", Path.Combine("original", "tokenizer.model") })
            {
                string file = Path.Combine(path, candidate);
                if (File.Exists(file))
                {
                    return file;
                }
            }
            throw new TokenizerFormatException(path, "directory contains neither tokenizer.json nor tokenizer.model");
        }
        if (!File.Exists(path))
        {
            throw new TokenizerFormatException(path, "file not found");
        }
        return path;
    }

    private static Llama3Tokenizer FromContent(string file, byte[] content)
    {
        // JSON starts with '{' (after optional BOM/whitespace); a tiktoken file starts with base64.
        ReadOnlySpan<byte> head = content.AsSpan();
        if (head.StartsWith("\uFEFF"u8))
        {
            head = head[3..];
        }
        head = head.TrimStart(" \t\r\n"u8);
        TokenizerDefinition definition = !head.IsEmpty && head[0] == (byte)'{'
            ? HuggingFaceTokenizerJsonReader.Read(file, content)
            : TiktokenModelReader.Read(file, content);
        return new Llama3Tokenizer(definition);
    }

    /// <summary>
    /// Encodes <paramref name="text"/> to token ids. Never adds BOS. With <paramref name="recognizeSpecialTokens"/> every
    /// special/added token string (e.g. <c>&lt;|eot_id|&gt;</c>, <c>&lt;|image|&gt;</c>) becomes its id; without it such strings
    /// are tokenized as ordinary text (use this for untrusted user content).
    /// </summary>
    /// <exception cref="ArgumentException">The text contains a lone UTF-16 surrogate (the message names its index): it has no
    /// UTF-8 encoding, and silently replacing it would change the ids.</exception>
    public int[] Encode(string text, bool recognizeSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Encode(text.AsSpan(), recognizeSpecialTokens);
    }

    /// <inheritdoc cref="Encode(string, bool)"/>
    public int[] Encode(ReadOnlySpan<char> text, bool recognizeSpecialTokens)
    {
        var output = new TokenIdBuffer(text.Length / 3 + 16);
        try
        {
            if (!recognizeSpecialTokens)
            {
                EncodeOrdinary(text, 0, ref output);
            }
            else
            {
                int position = 0;
                while (position < text.Length)
                {
                    int found = _specialMatcher.FindNext(text, position, out int length, out int id);
                    int segmentEnd = found < 0 ? text.Length : found;
                    EncodeOrdinary(text[position..segmentEnd], position, ref output);
                    if (found < 0)
                    {
                        break;
                    }
                    output.Add(id);
                    position = found + length;
                }
            }
            return output.ToArray();
        }
        finally
        {
            output.Dispose();
        }
    }

    private void EncodeOrdinary(ReadOnlySpan<char> text, int indexBase, ref TokenIdBuffer output)
    {
        Span<byte> stackBuffer = stackalloc byte[StackBytes];
        int position = 0;
        while (position < text.Length)
        {
            int end = Llama3PreTokenizer.NextPreTokenEnd(text, position, indexBase, out _);
            EncodePreToken(text[position..end], stackBuffer, ref output);
            position = end;
        }
    }

    private void EncodePreToken(ReadOnlySpan<char> preToken, Span<byte> stackBuffer, ref TokenIdBuffer output)
    {
        byte[]? rented = null;
        int maxBytes = preToken.Length * 3;
        Span<byte> buffer = maxBytes <= stackBuffer.Length ? stackBuffer : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            // Most pre-tokens are ASCII; Ascii.FromUtf16 is a cheaper call than the general UTF-8 encoder.
            int byteCount = System.Text.Ascii.FromUtf16(preToken, buffer, out int written) == System.Buffers.OperationStatus.Done
                ? written
                : Encoding.UTF8.GetBytes(preToken, buffer);
            ReadOnlySpan<byte> bytes = buffer[..byteCount];
            // Whole pre-token in the vocabulary: emit it (tiktoken's and HF's ignore_merges rule).
            int whole = _vocabulary.Find(bytes);
            if (whole >= 0)
            {
                output.Add(whole);
                return;
            }
            if (preToken.Length > PreTokenCache.MaxKeyLength)
            {
                BytePairMerger.Merge(bytes, _vocabulary, _merges, ref output);
                return;
            }
            int[]? cached = _cache.TryGet(preToken, out int slot);
            if (cached is not null)
            {
                output.AddRange(cached);
                return;
            }
            int before = output.Count;
            BytePairMerger.Merge(bytes, _vocabulary, _merges, ref output);
            _cache.Set(slot, preToken, output.Span[before..].ToArray());
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// Decodes ids to text: the concatenated token bytes decoded as UTF-8. Byte-exact for ids that encode valid UTF-8 (any output
    /// of <see cref="Encode(string, bool)"/>); invalid sequences (e.g. an id list cut inside a multi-byte character) become
    /// U+FFFD, one per maximal invalid subsequence, as <see cref="Encoding.UTF8"/> does.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary (the message names it).</exception>
    public string Decode(ReadOnlySpan<int> ids) => Encoding.UTF8.GetString(DecodeToBytes(ids));

    /// <summary>The concatenated bytes of the tokens (special tokens contribute their UTF-8 text).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is not in the vocabulary (the message names it).</exception>
    public byte[] DecodeToBytes(ReadOnlySpan<int> ids)
    {
        int total = 0;
        foreach (int id in ids)
        {
            total += GetBytesOrThrow(id).Length;
        }
        var result = new byte[total];
        int position = 0;
        foreach (int id in ids)
        {
            ReadOnlySpan<byte> bytes = GetBytesOrThrow(id);
            bytes.CopyTo(result.AsSpan(position));
            position += bytes.Length;
        }
        return result;
    }

    /// <summary>The id of a special/added token string such as <c>&lt;|eot_id|&gt;</c>.</summary>
    public bool TryGetSpecialTokenId(string token, out int id) => _specialIdsByText.TryGetValue(token, out id);

    /// <summary>Text of one token for diagnostics (UTF-8 decoded, partial characters as U+FFFD), or null for an unknown id.</summary>
    public string? GetTokenText(int id) =>
        TryGetBytes(id, out ReadOnlySpan<byte> bytes) ? Encoding.UTF8.GetString(bytes) : null;

    private bool TryGetBytes(int id, out ReadOnlySpan<byte> bytes)
    {
        if (_vocabulary.Contains(id))
        {
            bytes = _vocabulary.GetBytes(id);
            return true;
        }
        if (_specialBytesById.TryGetValue(id, out byte[]? special))
        {
            bytes = special;
            return true;
        }
        bytes = default;
        return false;
    }

    private ReadOnlySpan<byte> GetBytesOrThrow(int id)
    {
        if (!TryGetBytes(id, out ReadOnlySpan<byte> bytes))
        {
            throw new ArgumentOutOfRangeException("ids", id, $"Token id {id} is not in the vocabulary (valid ids: 0..{VocabularySize - 1}).");
        }
        return bytes;
    }
}
