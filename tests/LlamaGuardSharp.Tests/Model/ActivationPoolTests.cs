using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Model;

public sealed class ActivationPoolTests
{
    /// <summary>The tiny golden model with every activation array pooled (minimum length 1), and a golden case's images.</summary>
    private sealed class PooledTinyModel : IDisposable
    {
        private readonly MllamaCheckpoint _checkpoint = MllamaCheckpoint.Open(TestData.Golden("models", "mllama_tiny_56"));

        public PooledTinyModel()
        {
            Images = MllamaGoldenFixture.LoadImages(Golden);
            Model = MllamaModel.Load(_checkpoint, null, minPooledLength: 1);
        }

        public GoldenCase Golden { get; } = GoldenCase.Open("mllama_tiny_56", "square_small");

        public IReadOnlyList<VisionInput> Images { get; }

        public MllamaModel Model { get; }

        public void Dispose()
        {
            Golden.Dispose();
            _checkpoint.Dispose();
        }
    }

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
        using var tiny = new PooledTinyModel();
        var (images, model) = (tiny.Images, tiny.Model);
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

    /// <summary>Without a forced collection after each classification, an image's cross-attention memory must not be
    /// left as garbage: released, it goes back to the text pool, and the next encoding writes into the same arrays.</summary>
    [Fact]
    public void A_released_image_encoding_hands_its_cross_attention_memory_back_and_the_next_encoding_reuses_it_with_the_same_bits()
    {
        using var tiny = new PooledTinyModel();
        var (images, model) = (tiny.Images, tiny.Model);
        int layer = model.Config.Text.CrossAttentionLayers[0];

        var first = model.EncodeImages(images);
        float[] keysCopy = (float[])first.Memory.KeysOf(layer).Clone();
        var firstArrays = Arrays(first.Memory);
        long before = model.Text.RetainedActivationBytes;
        first.Release();
        Assert.Equal(before + CrossAttentionMemory.BytesPerImage(model.Config), model.Text.RetainedActivationBytes);
        Assert.Throws<ObjectDisposedException>(() => first.Memory.KeysOf(layer));
        first.Release(); // twice: no effect
        Assert.Equal(before + CrossAttentionMemory.BytesPerImage(model.Config), model.Text.RetainedActivationBytes);

        var second = model.EncodeImages(images);
        Assert.True(firstArrays.SetEquals(Arrays(second.Memory)), "the second encoding should write into the first one's arrays");
        Assert.Equal(keysCopy, second.Memory.KeysOf(layer));
        Assert.Equal(before, model.Text.RetainedActivationBytes);

        HashSet<float[]> Arrays(CrossAttentionMemory memory) => new(
            model.Config.Text.CrossAttentionLayers.SelectMany(i => new[] { memory.KeysOf(i), memory.ValuesOf(i) }), ReferenceEqualityComparer.Instance);
    }

    [Fact]
    public void A_disposed_session_hands_its_KV_cache_back_and_the_next_session_reuses_it_with_the_same_bits()
    {
        using var tiny = new PooledTinyModel();
        var (images, model, ids) = (tiny.Images, tiny.Model, tiny.Golden.InputIds);

        var first = new GenerationSession(model, ids.Length + 2);
        float[] prefill = first.Prefill(ids, images);
        float[] step = first.Step(50);
        long layerBuffersOnly = model.Text.RetainedActivationBytes; // the forward passes' layer buffers came back
        Assert.True(layerBuffersOnly > 0);
        first.Dispose();
        long withCache = model.Text.RetainedActivationBytes;
        Assert.True(withCache > layerBuffersOnly, "the KV cache should be kept after the session is disposed");
        Assert.Throws<ObjectDisposedException>(() => first.Step(51));
        first.Dispose(); // twice: no effect
        Assert.Equal(withCache, model.Text.RetainedActivationBytes);

        // A second session (reusing the arrays, not zeroed by chance) reproduces the first bit for bit.
        using var second = new GenerationSession(model, ids.Length + 2);
        Assert.Equal(prefill, second.Prefill(ids, images));
        Assert.Equal(step, second.Step(50));
        Assert.True(model.Text.RetainedActivationBytes < withCache, "the second session should have taken the pooled cache");
    }

    [Fact]
    public void A_pooled_KV_cache_rounds_its_arrays_up_and_keeps_its_capacity()
    {
        var pool = new ActivationPool(1L << 30, minPooledLength: 1);
        var cache = new KvCache([true, false, true], capacity: 70, kvDim: 8, pool);
        Assert.Equal(70, cache.Capacity);
        Assert.Equal(128 * 8, cache.Keys(0).Length); // 70 positions rounded up to a multiple of RowStep
        Assert.Equal(128, ActivationPool.RoundRows(70));
        Assert.Equal(64, ActivationPool.RoundRows(64));
        Assert.Throws<InvalidOperationException>(() => cache.Keys(1)); // a cross-attention layer has none
        Assert.Throws<ModelInputException>(() => cache.EnsureRoom(71));
        cache.Release();
        Assert.Equal(4L * 128 * 8 * sizeof(float), pool.KeptBytes);
        Assert.Throws<ObjectDisposedException>(() => cache.Keys(0));
        Assert.Throws<ObjectDisposedException>(() => cache.Truncate(0));
        var next = new KvCache([true, false, true], capacity: 100, kvDim: 8, pool); // same 128-position bucket
        Assert.Equal(0, pool.KeptBytes);
        Assert.All(next.Values(2), v => Assert.Equal(0f, v));
        new KvCache([true], 5, 8).Release(); // not pooled: nothing to hand back
    }
}
