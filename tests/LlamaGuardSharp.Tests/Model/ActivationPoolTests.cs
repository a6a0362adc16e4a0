using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Model;

public sealed class ActivationPoolTests
{
    [Fact]
    public void A_returned_array_is_handed_out_again_zero_filled_for_the_same_length_only()
    {
        var pool = new ActivationPool(maxKeptBytes: 1 << 20, minPooledLength: 4);
        float[] a = pool.Rent(8);
        a.AsSpan().Fill(3f);
        pool.Return(a);
        Assert.Equal(32, pool.KeptBytes);
        Assert.NotSame(a, pool.Rent(9));
        float[] again = pool.Rent(8);
        Assert.Same(a, again);
        Assert.All(again, v => Assert.Equal(0f, v));
        Assert.Equal(0, pool.KeptBytes);
        Assert.NotSame(a, pool.Rent(8)); // taken: a fresh one
    }

    [Fact]
    public void Short_arrays_are_not_kept_and_the_bound_is_respected()
    {
        var pool = new ActivationPool(maxKeptBytes: 40, minPooledLength: 4);
        pool.Return(new float[3]);
        Assert.Equal(0, pool.KeptBytes);
        pool.Return(new float[8]);
        pool.Return(new float[8]); // 64 bytes would exceed 40
        Assert.Equal(32, pool.KeptBytes);
        pool.Return(null);
        Assert.Equal(32, pool.KeptBytes);
    }

    [Fact]
    public void An_array_returned_twice_is_kept_once_so_two_renters_never_share_it()
    {
        var pool = new ActivationPool(maxKeptBytes: 1 << 20, minPooledLength: 1);
        float[] a = pool.Rent(5);
        pool.Return(a);
        pool.Return(a);
        Assert.Same(a, pool.Rent(5));
        Assert.NotSame(a, pool.Rent(5));
    }

    [Fact]
    public void Clone_copies_into_a_pooled_array()
    {
        var pool = new ActivationPool(maxKeptBytes: 1 << 20, minPooledLength: 1);
        float[] kept = pool.Rent(3);
        pool.Return(kept);
        float[] copy = pool.Clone([1f, 2f, 3f]);
        Assert.Same(kept, copy);
        Assert.Equal([1f, 2f, 3f], copy);
    }

    [Fact]
    public void Bad_arguments_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActivationPool(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActivationPool(1, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ActivationPool(1).Rent(-1));
        Assert.Throws<ArgumentNullException>(() => new ActivationPool(1).Clone(null!));
    }

    [Fact]
    public void Encoding_an_image_again_reuses_the_pooled_buffers_and_gives_the_same_bits()
    {
        using var golden = GoldenCase.Open("mllama_tiny_56", "square_small");
        var images = MllamaGoldenFixture.LoadImages(golden);
        using var checkpoint = MllamaCheckpoint.Open(TestData.Golden("models", "mllama_tiny_56"));
        var model = MllamaModel.Load(checkpoint, null, minPooledLength: 1);
        Assert.Equal(0, model.RetainedActivationBytes);
        float[] first = model.ComputeCrossAttentionStates(images);
        long retained = model.RetainedActivationBytes;
        Assert.True(retained > 0, "the vision buffers should be kept after an encode");
        float[] firstCopy = (float[])first.Clone();
        float[] second = model.ComputeCrossAttentionStates(images);
        Assert.NotSame(first, second);
        Assert.Equal(firstCopy, second); // bit for bit
        Assert.Equal(firstCopy, first);  // the caller's array was not recycled under it
        Assert.Equal(retained, model.RetainedActivationBytes);
        long bound = VisionEncoder.PooledBytesPerEncode(model.Config.Vision) + (long)model.Config.Vision.MaxNumTiles
            * model.Config.Vision.TokensPerTile * model.Config.Text.HiddenSize * sizeof(float);
        Assert.InRange(retained, 1, bound);
    }
}
