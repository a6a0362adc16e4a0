namespace LlamaGuardSharp.Imaging;

/// <summary>The reference's choice of tile canvas and of the size the image is resized to before padding (double precision throughout).</summary>
internal static class CanvasPlanner
{
    /// <summary>
    /// transformers' <c>get_optimal_tiled_canvas</c>: per candidate grid the no-distortion scale min(Ch/H, Cw/W); pick the smallest
    /// scale ≥ 1 (least upscaling) if any, else the largest (least downscaling); among grids with exactly that scale the smallest
    /// canvas area, first in list order on a tie.
    /// </summary>
    public static int ChooseGrid(int height, int width, int tileSize, IReadOnlyList<TileGrid> grids)
    {
        var scales = new double[grids.Count];
        for (int i = 0; i < grids.Count; i++)
        {
            double scaleH = (double)(grids[i].TilesHigh * tileSize) / height;
            double scaleW = (double)(grids[i].TilesWide * tileSize) / width;
            scales[i] = scaleW > scaleH ? scaleH : scaleW;
        }
        double selected = double.NaN;
        foreach (double s in scales)
        {
            if (s >= 1 && (double.IsNaN(selected) || s < selected))
            {
                selected = s;
            }
        }
        if (double.IsNaN(selected))
        {
            foreach (double s in scales)
            {
                if (double.IsNaN(selected) || s > selected)
                {
                    selected = s;
                }
            }
        }
        int best = -1;
        long bestArea = long.MaxValue;
        for (int i = 0; i < grids.Count; i++)
        {
            if (scales[i] == selected)
            {
                long area = (long)grids[i].TilesHigh * tileSize * grids[i].TilesWide * tileSize;
                if (area < bestArea)
                {
                    bestArea = area;
                    best = i;
                }
            }
        }
        return best;
    }

    /// <summary>
    /// transformers' <c>get_image_size_fit_to_canvas</c>: clip each side to [tileSize, canvas side], scale by the limiting ratio,
    /// floor the other side (never below 1, as later transformers versions guard).
    /// </summary>
    public static (int Height, int Width) FitToCanvas(int height, int width, int canvasHeight, int canvasWidth, int tileSize)
    {
        int targetWidth = Math.Clamp(width, tileSize, canvasWidth);
        int targetHeight = Math.Clamp(height, tileSize, canvasHeight);
        double scaleH = (double)targetHeight / height;
        double scaleW = (double)targetWidth / width;
        if (scaleW < scaleH)
        {
            int newHeight = (int)Math.Min(Math.Max(Math.Floor(height * scaleW), 1), targetHeight);
            return (newHeight, targetWidth);
        }
        int newWidth = (int)Math.Min(Math.Max(Math.Floor(width * scaleH), 1), targetWidth);
        return (targetHeight, newWidth);
    }
}
