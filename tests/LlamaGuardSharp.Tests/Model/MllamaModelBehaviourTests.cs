using System.Numerics.Tensors;
using LlamaGuardSharp.Checkpoints;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Tests.Infrastructure;

namespace LlamaGuardSharp.Tests.Model;

/// <summary>Behaviour beyond the goldens: masking option, forced decoding, cancellation and input validation (56 cfg).</summary>
public sealed class MllamaModelBehaviourTests(MllamaGoldenFixture fixture) : IClassFixture<MllamaGoldenFixture>
{
    private const string Tiny = "mllama_tiny_56";

    private static (int[] Ids, IReadOnlyList<VisionInput> Images) Case(string name)
    {
        using var golden = GoldenCase.Open(Tiny, name);
        return (golden.InputIds, MllamaGoldenFixture.LoadImages(golden));
    }

    [Fact]
    public void Meta_masking_leaves_text_before_the_image_as_in_a_text_only_run_while_HF_leaks_vision_into_it()
    {
        var (ids, images) = Case("square_small");
        int imagePos = Array.IndexOf(ids, 128256);
        Assert.True(imagePos > 0);
        int d = fixture.Model(Tiny).Config.Text.HiddenSize;

        using var checkpoint = MllamaCheckpoint.Open(TestData.Golden("models", Tiny));
        var meta = MllamaModel.Load(checkpoint, new GuardModelOptions { CrossAttentionMasking = CrossAttentionMasking.Meta });
        var metaTrace = new TextTrace();
        new Generator(meta).ForwardAllPositions(ids, images, metaTrace);
        var textOnlyTrace = new TextTrace();
        new Generator(meta).ForwardAllPositions(ids[..imagePos], null, textOnlyTrace);
        var hfTrace = new TextTrace();
        new Generator(fixture.Model(Tiny)).ForwardAllPositions(ids, images, hfTrace);

        var metaFinal = metaTrace.HiddenStates[^1].AsSpan(0, imagePos * d);
        fixture.Tolerance.AssertClose("meta_prefix_vs_text_only", "Meta masking, rows before the image", metaFinal, textOnlyTrace.HiddenStates[^1]);
        float leak = TensorPrimitives.MaxMagnitude(Subtract(hfTrace.HiddenStates[^1].AsSpan(0, imagePos * d), metaFinal));
        Assert.True(leak > 1e-2f, $"HF and Meta masking should differ before the image (max difference {leak})");
    }

    [Fact]
    public void Forced_tokens_through_the_session_give_the_logits_of_a_full_recomputation()
    {
        var (ids, images) = Case("wide_guard_prompt");
        var model = fixture.Model(Tiny);
        int[] forced = [39257, 198, 50];
        var session = new GenerationSession(model, ids.Length + forced.Length);
        session.Prefill(ids, images);
        float[] logits = [];
        foreach (int token in forced)
        {
            logits = session.Step(token);
        }
        Assert.Equal(ids.Length + forced.Length, session.Position);
        Assert.Equal([.. ids, .. forced], session.Tokens);
        var all = new Generator(model).ForwardAllPositions([.. ids, .. forced], images);
        int vocab = model.Text.VocabSize;
        fixture.Tolerance.AssertClose("forced_vs_recomputed_logits", "logits after forcing unsafe \\n S", logits, all.AsSpan(all.Length - vocab, vocab));
        Assert.Throws<ModelInputException>(() => session.Step(16)); // capacity reached
    }

    [Fact]
    public void Extend_runs_forced_tokens_in_one_pass_with_the_logits_of_stepping_them()
    {
        var (ids, images) = Case("wide_guard_prompt");
        var model = fixture.Model(Tiny);
        int[] forced = [39257, 198, 50];
        var stepped = new GenerationSession(model, ids.Length + forced.Length);
        stepped.Prefill(ids, images);
        float[] steppedLogits = [];
        foreach (int token in forced)
        {
            steppedLogits = stepped.Step(token);
        }

        var session = new GenerationSession(model, ids.Length + forced.Length + 1);
        Assert.Throws<InvalidOperationException>(() => session.Extend(forced)); // before Prefill
        session.Prefill(ids, images);
        Assert.Throws<ArgumentException>(() => session.Extend([]));
        float[] logits = session.Extend(forced);
        Assert.Equal(ids.Length + forced.Length, session.Position);
        Assert.Equal([.. ids, .. forced], session.Tokens);
        fixture.Tolerance.AssertClose("extend_vs_step_logits", "logits after extending by unsafe \\n S", logits, steppedLogits);

        // The cache continues from there exactly as after stepping: rewind and extend again, then one more step.
        session.Rewind(ids.Length);
        float[] again = session.Extend(forced);
        Assert.Equal(logits, again);
        Assert.Throws<ModelInputException>(() => session.Extend([16, 16])); // past the capacity
        Assert.Equal(ids.Length + forced.Length, session.Position);
    }

    public static TheoryData<string, int> Drafts => new()
    {
        { "all accepted", 4 },
        { "two accepted, then a wrong token", 2 },
        { "first token wrong", 0 },
        { "no draft", 0 },
    };

    [Theory]
    [MemberData(nameof(Drafts))]
    public void Drafted_greedy_gives_the_plain_greedy_output_and_leaves_the_cache_ready(string kind, int expectAccepted)
    {
        var (ids, images) = Case("two_images");
        var model = fixture.Model(Tiny);
        const int maxNew = 8;
        int[] greedy = new Generator(model).Generate(ids, images, new GenerationOptions(maxNew + 1, [])).OutputIds.ToArray();
        int Wrong(int token) => token == 16 ? 17 : 16;
        int[] draft = kind switch
        {
            "all accepted" => greedy[..4],
            "two accepted, then a wrong token" => [greedy[0], greedy[1], Wrong(greedy[2]), greedy[3]],
            "first token wrong" => [Wrong(greedy[0]), greedy[1]],
            _ => [],
        };
        var session = new GenerationSession(model, ids.Length + maxNew + 1);
        float[][] draftLogits = session.PrefillWithDraft(ids, draft, images);
        Assert.Equal(draft.Length + 1, draftLogits.Length);
        Assert.Equal(ids.Length + draft.Length, session.Position);

        var result = DraftedGreedy.Run(session, ids.Length, draft, draftLogits, [], maxNew);
        Assert.Equal(greedy[..maxNew], result.Output);
        Assert.Equal(expectAccepted, result.Accepted);
        Assert.Equal(ids.Length + maxNew - 1, session.Position); // the last output token is not fed yet
        Assert.Equal([.. ids, .. greedy[..(maxNew - 1)]], session.Tokens);

        // The logits each token was chosen from (draft rows or steps) are those of a full recomputation, and the cache
        // goes on exactly: feeding the last token gives the next greedy token.
        var all = new Generator(model).ForwardAllPositions([.. ids, .. greedy[..(maxNew - 1)]], images);
        int vocab = model.Text.VocabSize;
        for (int i = 0; i < maxNew; i++)
        {
            fixture.Tolerance.AssertClose("drafted_greedy_logits", $"logits of output {i} ({kind})", result.StepLogits[i],
                all.AsSpan((ids.Length - 1 + i) * vocab, vocab));
        }
        Assert.Equal(greedy[maxNew], TensorPrimitives.IndexOfMax(session.Step(greedy[maxNew - 1])));
    }

    [Theory]
    [InlineData("wide_guard_prompt")] // rows in lanes (≥ 48 rows per KV head) for the self-attention
    [InlineData("two_images")]
    public void A_draft_tree_gives_each_branch_its_own_logits_and_keeps_the_accepted_one(string caseName)
    {
        var (ids, images) = Case(caseName);
        var model = fixture.Model(Tiny);
        const int maxNew = 6;
        int[] greedy = new Generator(model).Generate(ids, images, new GenerationOptions(maxNew + 1, [])).OutputIds.ToArray();
        int Wrong(int token) => token == 16 ? 17 : 16;
        // Branch 1 (nodes 0–2) starts with a wrong token; branch 2 (nodes 3–5) is the greedy path, with a wrong sibling
        // (node 6) of its second token: the decoder must accept 3, 4, 5 while nodes 0–2 and 6 stay invisible to them.
        var tree = new DraftTree(
            [Wrong(greedy[0]), greedy[1], greedy[2], greedy[0], greedy[1], greedy[2], Wrong(greedy[1])],
            [-1, 0, 1, -1, 3, 4, 3]);
        var session = new GenerationSession(model, ids.Length + tree.Count + maxNew);
        float[][] draftLogits = session.PrefillWithDraft(ids, tree, images);
        Assert.Throws<InvalidOperationException>(() => session.Step(greedy[0]));     // branches still in the cache
        Assert.Throws<InvalidOperationException>(() => session.Rewind(ids.Length + 1));

        // Every row's logits are those of its own branch, computed alone.
        var all = new Generator(model).ForwardAllPositions([.. ids, .. greedy[..maxNew]], images);
        int vocab = model.Text.VocabSize;
        float[] Alone(params int[] branch) => new Generator(model).ForwardAllPositions([.. ids, .. branch], images)[^vocab..];
        fixture.Tolerance.AssertClose("draft_tree_logits", "after the prompt", draftLogits[0], all.AsSpan((ids.Length - 1) * vocab, vocab));
        fixture.Tolerance.AssertClose("draft_tree_logits", "wrong branch, token 3", draftLogits[3], Alone(Wrong(greedy[0]), greedy[1], greedy[2]));
        for (int i = 0; i < 3; i++)
        {
            fixture.Tolerance.AssertClose("draft_tree_logits", $"greedy branch, token {i + 1}", draftLogits[4 + i],
                all.AsSpan((ids.Length + i) * vocab, vocab));
        }
        fixture.Tolerance.AssertClose("draft_tree_logits", "wrong sibling", draftLogits[7], Alone(greedy[0], Wrong(greedy[1])));

        var result = DraftedGreedy.Run(session, ids.Length, tree, draftLogits, [], maxNew);
        Assert.Equal(greedy[..maxNew], result.Output);
        Assert.Equal(3, result.Accepted);
        Assert.Equal(5, result.LastAccepted);
        Assert.Equal([.. ids, .. greedy[..(maxNew - 1)]], session.Tokens);
        for (int i = 0; i < maxNew; i++)
        {
            fixture.Tolerance.AssertClose("draft_tree_logits", $"logits of output {i}", result.StepLogits[i],
                all.AsSpan((ids.Length - 1 + i) * vocab, vocab));
        }
        // The cache holds exactly the accepted path: the next step gives the next greedy token.
        Assert.Equal(greedy[maxNew], TensorPrimitives.IndexOfMax(session.Step(greedy[maxNew - 1])));
    }

    [Fact]
    public void A_draft_tree_stopped_inside_a_branch_keeps_that_branch_only()
    {
        var (ids, images) = Case("two_images");
        var model = fixture.Model(Tiny);
        int[] greedy = new Generator(model).Generate(ids, images, new GenerationOptions(4, [])).OutputIds.ToArray();
        int Wrong(int token) => token == 16 ? 17 : 16;
        var tree = new DraftTree([greedy[0], Wrong(greedy[1]), greedy[1], greedy[2]], [-1, 0, 0, 2]);
        var session = new GenerationSession(model, ids.Length + 8);
        float[][] draftLogits = session.PrefillWithDraft(ids, tree, images);
        // greedy[2] is declared a stop token: the run ends after accepting nodes 0 and 2 (node 1, a wrong sibling laid
        // out between them, is dropped and node 2 moves down in the cache; node 3 is dropped too).
        var result = DraftedGreedy.Run(session, ids.Length, tree, draftLogits, [greedy[2]], 20);
        Assert.Equal(greedy[..3], result.Output);
        Assert.Equal(2, result.LastAccepted);
        Assert.Equal(ids.Length + 2, session.Position);
        Assert.Equal([.. ids, greedy[0], greedy[1]], session.Tokens);
        var all = new Generator(model).ForwardAllPositions([.. ids, .. greedy[..3]], images);
        int vocab = model.Text.VocabSize;
        fixture.Tolerance.AssertClose("draft_tree_logits", "step after the kept branch", session.Step(greedy[2]), all.AsSpan(all.Length - vocab, vocab));
        Assert.Throws<InvalidOperationException>(() => session.AcceptDraft(tree, 0)); // the draft is gone
    }

    [Fact]
    public void Drafted_greedy_stops_inside_the_draft_and_rewinds_the_rest()
    {
        var (ids, images) = Case("two_images");
        var model = fixture.Model(Tiny);
        int[] greedy = new Generator(model).Generate(ids, images, new GenerationOptions(6, [])).OutputIds.ToArray();
        var session = new GenerationSession(model, ids.Length + 6);
        float[][] draftLogits = session.PrefillWithDraft(ids, greedy[..5], images);
        // The third greedy token is a stop token: the run ends there with two draft tokens accepted and the rest dropped.
        var result = DraftedGreedy.Run(session, ids.Length, greedy[..5], draftLogits, [greedy[2]], 20);
        Assert.Equal(greedy[..3], result.Output);
        Assert.Equal(2, result.Accepted);
        Assert.Equal(ids.Length + 2, session.Position);
        Assert.Throws<ArgumentException>(() => DraftedGreedy.Run(session, ids.Length, greedy[..2], draftLogits, [], 4));
    }

    [Fact]
    public void Generation_stops_at_a_stop_token_and_reports_it()
    {
        var (ids, images) = Case("two_images");
        var golden = GoldenCase.Open(Tiny, "two_images");
        int[] greedy = golden.GreedyIds;
        golden.Dispose();
        // Declare the third greedy token a stop token: generation must end right after producing it.
        var result = new Generator(fixture.Model(Tiny)).Generate(ids, images, new GenerationOptions(20, [greedy[2]]));
        Assert.Equal(greedy[..3], result.OutputIds);
        Assert.Equal(StopReason.StopToken, result.StopReason);
        var capped = new Generator(fixture.Model(Tiny)).Generate(ids, images, new GenerationOptions(2, []));
        Assert.Equal(greedy[..2], capped.OutputIds);
        Assert.Equal(StopReason.MaxNewTokens, capped.StopReason);
    }

    [Fact]
    public void Images_encoded_once_serve_several_prompts_like_direct_generation()
    {
        var model = fixture.Model(Tiny);
        var (wideIds, wideImages) = Case("wide_guard_prompt");
        var (tallIds, _) = Case("tall_guard_response");
        var encoded = model.EncodeImages(wideImages);
        var generator = new Generator(model);
        var options = new GenerationOptions(4, []);
        var direct = generator.Generate(wideIds, wideImages, options);
        var reused = generator.GenerateWithEncodedImages(wideIds, encoded, options);
        Assert.Equal(direct.OutputIds, reused.OutputIds);
        Assert.Equal(direct.FirstStepLogits, reused.FirstStepLogits);
        // A second prompt with one image token reuses the same encoding.
        var other = generator.GenerateWithEncodedImages(tallIds, encoded, options);
        Assert.Equal(generator.Generate(tallIds, wideImages, options).FirstStepLogits, other.FirstStepLogits);
    }

    [Fact]
    public void Concurrent_generations_on_one_model_match_sequential_ones()
    {
        var model = fixture.Model(Tiny);
        string[] cases = ["two_images", "wide_guard_prompt", "text_only", "square_small"];
        var inputs = cases.Select(Case).ToArray();
        var options = new GenerationOptions(4, []);
        var sequential = inputs.Select(c => new Generator(model).Generate(c.Ids, c.Images, options).OutputIds).ToArray();
        var parallel = new IReadOnlyList<int>[inputs.Length];
        Parallel.For(0, inputs.Length, i => parallel[i] = new Generator(model).Generate(inputs[i].Ids, inputs[i].Images, options).OutputIds);
        Assert.Equal(sequential, parallel);
    }

    [Fact]
    public void Cancellation_is_honoured()
    {
        var (ids, images) = Case("square_small");
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => new Generator(fixture.Model(Tiny)).Generate(ids, images, null, cts.Token));
    }

    [Fact]
    public void Inconsistent_inputs_are_rejected_with_a_clear_exception()
    {
        var model = fixture.Model(Tiny);
        var (ids, images) = Case("square_small");
        var generator = new Generator(model);
        Assert.Contains("outside the embedding table", Assert.Throws<ModelInputException>(() => generator.Generate([1, 128264], null)).Message);
        Assert.Contains("no image was given", Assert.Throws<ModelInputException>(() => generator.Generate(ids, null)).Message);
        Assert.Contains("image tokens", Assert.Throws<ModelInputException>(() => generator.Generate(ids, [images[0], images[0]])).Message);
        var truncated = images[0] with { PixelValues = images[0].PixelValues[..^1] };
        Assert.Contains("Pixel values", Assert.Throws<ModelInputException>(() => generator.Generate(ids, [truncated])).Message);
        var badRatio = images[0] with { AspectRatioId = 9 };
        Assert.Contains("Aspect ratio id", Assert.Throws<ModelInputException>(() => generator.Generate(ids, [badRatio])).Message);
        Assert.Throws<ModelInputException>(() => generator.Generate([], null));
    }

    private static float[] Subtract(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var result = new float[a.Length];
        TensorPrimitives.Subtract(a, b, result);
        return result;
    }
}
