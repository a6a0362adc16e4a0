namespace LlamaGuardSharp.Model;

/// <summary>
/// Which image tiles each text token may attend to, built from the token ids exactly as the HF processor does
/// (<c>get_cross_attention_token_mask</c> + <c>convert_sparse_cross_attention_mask_to_dense</c>, docs/model.md):
/// image k is visible from its <c>&lt;|image|&gt;</c> token up to (not including) the next image token; the last image,
/// and a run of consecutive image tokens, stay visible to the end; text before the first image token sees nothing;
/// only the first <c>num_tiles</c> tiles of an image are ever visible. Immutable.
/// </summary>
internal sealed class CrossAttentionMask
{
    private readonly bool[] _visible; // [rows, images, tiles]

    private CrossAttentionMask(bool[] visible, int rows, int images, int tiles, IReadOnlyList<(int Start, int End)> ranges)
    {
        _visible = visible;
        Rows = rows;
        Images = images;
        TilesPerImage = tiles;
        TokenRanges = ranges;
    }

    /// <summary>Number of text rows (tokens).</summary>
    public int Rows { get; }

    public int Images { get; }

    /// <summary>Tile slots per image (max_num_tiles).</summary>
    public int TilesPerImage { get; }

    /// <summary>Blocks per row: <see cref="Images"/> · <see cref="TilesPerImage"/>, in image-major order.</summary>
    public int BlocksPerRow => Images * TilesPerImage;

    /// <summary>Per image, the token range [Start, End) that sees it.</summary>
    public IReadOnlyList<(int Start, int End)> TokenRanges { get; }

    /// <summary>
    /// Builds the mask for a prompt. <paramref name="numTiles"/> gives the real tile count of each image, in the order
    /// of their image tokens; the number of image tokens must equal the number of images.
    /// </summary>
    public static CrossAttentionMask FromTokenIds(ReadOnlySpan<int> ids, int imageTokenId, IReadOnlyList<int> numTiles, int maxTiles)
    {
        ArgumentNullException.ThrowIfNull(numTiles);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTiles);
        var locations = new List<int>();
        for (int i = 0; i < ids.Length; i++)
        {
            if (ids[i] == imageTokenId)
            {
                locations.Add(i);
            }
        }
        if (locations.Count != numTiles.Count)
        {
            throw new ModelInputException($"The prompt has {locations.Count} image tokens but {numTiles.Count} images were given.");
        }
        for (int k = 0; k < numTiles.Count; k++)
        {
            if (numTiles[k] < 1 || numTiles[k] > maxTiles)
            {
                throw new ModelInputException($"Image {k} has {numTiles[k]} tiles, expected 1..{maxTiles}.");
            }
        }
        var ranges = new (int Start, int End)[locations.Count];
        for (int k = 0; k < ranges.Length; k++)
        {
            ranges[k] = (locations[k], k + 1 < locations.Count ? locations[k + 1] : ids.Length);
        }
        // Consecutive image tokens share the range of the last one of their run (the processor walks backwards).
        int lastEnd = ids.Length;
        for (int k = ranges.Length - 1; k >= 0; k--)
        {
            if (ranges[k].Start == ranges[k].End - 1)
            {
                ranges[k].End = lastEnd;
            }
            lastEnd = ranges[k].End;
        }
        int rows = ids.Length, images = ranges.Length;
        var visible = new bool[rows * images * maxTiles];
        for (int k = 0; k < images; k++)
        {
            for (int r = ranges[k].Start; r < ranges[k].End; r++)
            {
                for (int t = 0; t < numTiles[k]; t++)
                {
                    visible[(r * images + k) * maxTiles + t] = true;
                }
            }
        }
        return new CrossAttentionMask(visible, rows, images, maxTiles, ranges);
    }

    public bool IsVisible(int row, int image, int tile) => _visible[(row * Images + image) * TilesPerImage + tile];

    /// <summary>The visible flags of one row, [images, tiles].</summary>
    public ReadOnlySpan<bool> Row(int row) => _visible.AsSpan(row * BlocksPerRow, BlocksPerRow);

    /// <summary>
    /// Whether the row sees at least one tile: HF's <c>full_text_row_masked_out_mask</c> (0 for rows that see nothing).
    /// </summary>
    public bool RowSeesImage(int row) => Row(row).Contains(true);

    /// <summary>The mask with <paramref name="extraRows"/> more rows, each a copy of the last row (decode steps).</summary>
    public CrossAttentionMask Extend(int extraRows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(extraRows);
        if (Rows == 0 && extraRows > 0)
        {
            throw new InvalidOperationException("An empty mask has no last row to repeat.");
        }
        var visible = new bool[(Rows + extraRows) * BlocksPerRow];
        _visible.CopyTo(visible, 0);
        for (int r = Rows; r < Rows + extraRows; r++)
        {
            Row(Rows - 1).CopyTo(visible.AsSpan(r * BlocksPerRow, BlocksPerRow));
        }
        return new CrossAttentionMask(visible, Rows + extraRows, Images, TilesPerImage, TokenRanges);
    }

    /// <summary>The dense 0/1 tensor [rows, images, tiles] the HF processor returns (without its batch axis).</summary>
    public long[] ToDense() => _visible.Select(v => v ? 1L : 0L).ToArray();
}
