namespace LlamaGuardSharp.Imaging;

/// <summary>An arrangement of tiles: <see cref="TilesHigh"/> rows × <see cref="TilesWide"/> columns (the checkpoints' (h, w) order).</summary>
public readonly record struct TileGrid(int TilesHigh, int TilesWide)
{
    public int TileCount => TilesHigh * TilesWide;

    /// <summary>
    /// transformers' <c>get_all_supported_aspect_ratios</c>: every (h, w) with h·w ≤ maxTiles, h outer, w inner — for 4 tiles
    /// (1,1) (1,2) (1,3) (1,4) (2,1) (2,2) (3,1) (4,1). The position in this list + 1 is the <c>aspect_ratio_id</c>.
    /// </summary>
    public static IReadOnlyList<TileGrid> AllUpTo(int maxTiles)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTiles);
        var grids = new List<TileGrid>();
        for (int h = 1; h <= maxTiles; h++)
        {
            for (int w = 1; w <= maxTiles; w++)
            {
                if (h * w <= maxTiles)
                {
                    grids.Add(new TileGrid(h, w));
                }
            }
        }
        return grids;
    }
}
