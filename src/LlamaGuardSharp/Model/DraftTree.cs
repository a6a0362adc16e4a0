namespace LlamaGuardSharp.Model;

/// <summary>
/// Draft tokens that may branch, for a speculative prefill: token i follows <see cref="Parents"/>[i] — an earlier draft
/// token, or −1 for the end of the prompt. The tokens are run in the order given, one after the other in the KV cache,
/// but each at the position of its depth (prompt end + <see cref="Depth"/>) and seeing only the prompt, its ancestors
/// and itself (<see cref="Compute.AttentionMaskKind.CausalTree"/>), so every branch gets the logits it would get alone.
/// A chain (each token the parent of the next) is the plain draft. Immutable.
/// </summary>
/// <example>Llama Guard's answer in the HF layout: <c>\n\n</c> (parent −1), then <c>unsafe</c>, <c>\n</c>, <c>S</c>
/// as one branch and <c>safe</c> as its sibling (parent: the <c>\n\n</c>).</example>
internal sealed class DraftTree
{
    /// <summary>At most this many tokens (one bit each in the attention mask's visibility words).</summary>
    public const int MaxTokens = 64;

    private readonly int[] _tokens;
    private readonly int[] _parents;
    private readonly int[] _depths;
    private readonly ulong[] _ancestry;

    /// <param name="tokens">The draft tokens.</param>
    /// <param name="parents">Per token, the index of the draft token it follows (lower than its own), or −1.</param>
    public DraftTree(IReadOnlyList<int> tokens, IReadOnlyList<int> parents)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(parents);
        if (tokens.Count != parents.Count)
        {
            throw new ArgumentException($"{tokens.Count} draft tokens but {parents.Count} parents.", nameof(parents));
        }
        if (tokens.Count > MaxTokens)
        {
            throw new ArgumentException($"A draft tree has at most {MaxTokens} tokens, got {tokens.Count}.", nameof(tokens));
        }
        int n = tokens.Count;
        _tokens = [.. tokens];
        _parents = [.. parents];
        _depths = new int[n];
        _ancestry = new ulong[n];
        for (int i = 0; i < n; i++)
        {
            int parent = _parents[i];
            if (parent < -1 || parent >= i)
            {
                throw new ArgumentException($"Draft token {i} has parent {parent}; a parent is −1 or an earlier token.", nameof(parents));
            }
            if (_tokens[i] < 0)
            {
                throw new ArgumentException($"Draft token {i} has the negative id {_tokens[i]}.", nameof(tokens));
            }
            for (int j = 0; j < i; j++)
            {
                if (_parents[j] == parent && _tokens[j] == _tokens[i])
                {
                    throw new ArgumentException($"Draft tokens {j} and {i} are the same token after the same parent.", nameof(tokens));
                }
            }
            _depths[i] = parent < 0 ? 0 : _depths[parent] + 1;
            _ancestry[i] = (parent < 0 ? 0UL : _ancestry[parent]) | 1UL << i;
        }
    }

    /// <summary>No draft.</summary>
    public static DraftTree Empty { get; } = new([], []);

    /// <summary>A draft without branches: each token follows the one before it.</summary>
    public static DraftTree Chain(ReadOnlySpan<int> tokens)
    {
        var parents = new int[tokens.Length];
        for (int i = 0; i < parents.Length; i++)
        {
            parents[i] = i - 1;
        }
        return new DraftTree(tokens.ToArray(), parents);
    }

    public int Count => _tokens.Length;

    public IReadOnlyList<int> Tokens => _tokens;

    public IReadOnlyList<int> Parents => _parents;

    /// <summary>Distance of token <paramref name="i"/> from the prompt's end (0 for a token that directly follows it).</summary>
    public int Depth(int i) => _depths[i];

    /// <summary>Bit j set when token j is token <paramref name="i"/> or one of its ancestors.</summary>
    internal ulong Ancestry(int i) => _ancestry[i];

    /// <summary>The draft token <paramref name="token"/> that follows <paramref name="parent"/> (−1: the prompt's end), or −1 if there is none.</summary>
    public int Child(int parent, int token)
    {
        for (int i = parent + 1; i < _tokens.Length; i++)
        {
            if (_parents[i] == parent && _tokens[i] == token)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Whether every token follows the one before it.</summary>
    public bool IsChain
    {
        get
        {
            for (int i = 0; i < _parents.Length; i++)
            {
                if (_parents[i] != i - 1)
                {
                    return false;
                }
            }
            return true;
        }
    }
}
