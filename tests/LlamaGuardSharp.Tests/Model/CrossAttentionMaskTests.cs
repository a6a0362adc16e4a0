using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Tests.Model;

public sealed class CrossAttentionMaskTests
{
    private const int Image = 128256;

    [Fact]
    public void Consecutive_image_tokens_share_the_range_of_the_last_one()
    {
        // Image tokens at 1, 2 and 5: the run (1, 2) ends where image 1's range ends, at the next image token 5.
        int[] ids = [10, Image, Image, 11, 12, Image, 13];
        var mask = CrossAttentionMask.FromTokenIds(ids, Image, [2, 4, 1], maxTiles: 4);
        Assert.Equal([(1, 5), (2, 5), (5, 7)], mask.TokenRanges);
        for (int row = 0; row < ids.Length; row++)
        {
            Assert.Equal(row is >= 1 and < 5, mask.IsVisible(row, 0, 1));
            Assert.False(mask.IsVisible(row, 0, 2)); // image 0 has 2 tiles
            Assert.Equal(row is >= 2 and < 5, mask.IsVisible(row, 1, 3));
            Assert.Equal(row >= 5, mask.IsVisible(row, 2, 0));
            Assert.False(mask.IsVisible(row, 2, 1));
        }
        Assert.False(mask.RowSeesImage(0));
        Assert.True(mask.RowSeesImage(1));
    }

    [Fact]
    public void Text_before_the_only_image_sees_nothing_and_decode_rows_repeat_the_last_row()
    {
        int[] ids = [1, 2, Image, 3];
        var mask = CrossAttentionMask.FromTokenIds(ids, Image, [3], maxTiles: 4).Extend(2);
        Assert.Equal(6, mask.Rows);
        long[] expectedRow = [1, 1, 1, 0];
        long[] dense = mask.ToDense();
        for (int row = 0; row < 6; row++)
        {
            Assert.Equal(row < 2 ? new long[4] : expectedRow, dense.AsSpan(row * 4, 4).ToArray());
        }
    }

    [Theory]
    [InlineData(new[] { 1, 2, 3 }, new[] { 1 })]
    [InlineData(new[] { 1, Image, Image }, new[] { 1 })]
    [InlineData(new[] { 1, Image }, new int[0])]
    public void Image_token_count_must_match_image_count(int[] ids, int[] numTiles)
    {
        var e = Assert.Throws<ModelInputException>(() => CrossAttentionMask.FromTokenIds(ids, Image, numTiles, 4));
        Assert.Contains("image tokens", e.Message);
    }

    [Fact]
    public void Tile_count_outside_the_tile_slots_is_rejected()
    {
        Assert.Throws<ModelInputException>(() => CrossAttentionMask.FromTokenIds([Image], Image, [5], 4));
        Assert.Throws<ModelInputException>(() => CrossAttentionMask.FromTokenIds([Image], Image, [0], 4));
    }
}
