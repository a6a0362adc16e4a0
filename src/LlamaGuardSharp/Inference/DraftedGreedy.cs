using System.Numerics.Tensors;
using LlamaGuardSharp.Model;

namespace LlamaGuardSharp.Inference;

/// <summary>
/// Greedy decoding that starts from a speculative prefill (<see cref="GenerationSession.Prefill"/> with a draft):
/// the prompt's pass also ran a tree of draft tokens, and their logits stand in for decode steps as long as the greedy
/// choice is a child, in the tree, of the last accepted token; at the first choice that is not, the session keeps the
/// accepted path, drops the rest of the tree, and decoding goes on step by step. The output is the plain greedy output
/// (up to float rounding in logits that sit on a tie: a batched row and a stepped row may differ in the last bits).
/// </summary>
internal static class DraftedGreedy
{
    /// <summary>What the decoding produced.</summary>
    /// <param name="Output">Generated tokens (the stop token included when one ended the run).</param>
    /// <param name="StepLogits">The logits each output token was chosen from (StepLogits[i] for Output[i]).</param>
    /// <param name="Accepted">Draft tokens that turned out to be the model's own greedy tokens (the accepted path's length).</param>
    /// <param name="LastAccepted">The draft token the accepted path ends at (−1: none).</param>
    public sealed record Result(List<int> Output, List<float[]> StepLogits, int Accepted, int LastAccepted);

    /// <summary>A draft without branches.</summary>
    public static Result Run(GenerationSession session, int promptLength, ReadOnlySpan<int> draft, float[][] draftLogits,
        IReadOnlyCollection<int> stopTokens, int maxNewTokens, CancellationToken cancellationToken = default) =>
        Run(session, promptLength, DraftTree.Chain(draft), draftLogits, stopTokens, maxNewTokens, cancellationToken);

    /// <param name="session">A session just prefilled with <paramref name="draft"/> after a prompt of
    /// <paramref name="promptLength"/> tokens; on return its position is promptLength + Output.Count − 1 (the last output
    /// token is not fed), so the caller can go on with it.</param>
    /// <param name="draftLogits">What the prefill returned ([draft.Count + 1][vocab]).</param>
    public static Result Run(GenerationSession session, int promptLength, DraftTree draft, float[][] draftLogits,
        IReadOnlyCollection<int> stopTokens, int maxNewTokens, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(draft);
        ArgumentNullException.ThrowIfNull(draftLogits);
        if (draftLogits.Length != draft.Count + 1)
        {
            throw new ArgumentException($"Expected {draft.Count + 1} rows of draft logits, got {draftLogits.Length}.", nameof(draftLogits));
        }
        if (session.Position != promptLength + draft.Count)
        {
            throw new ArgumentException($"The session is at position {session.Position}, not right after a {promptLength}-token prompt and its draft.", nameof(session));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNewTokens, 1);
        var output = new List<int>();
        var stepLogits = new List<float[]>();
        int accepted = 0, node = -1;
        bool drafting = true;
        float[] logits = draftLogits[0];
        while (true)
        {
            int next = TensorPrimitives.IndexOfMax(logits);
            stepLogits.Add(logits);
            output.Add(next);
            if (stopTokens.Contains(next) || output.Count >= maxNewTokens)
            {
                break;
            }
            cancellationToken.ThrowIfCancellationRequested();
            if (drafting)
            {
                int child = draft.Child(node, next);
                if (child >= 0)
                {
                    node = child; // its keys/values are already in the cache, and so are the logits that follow it
                    accepted++;
                    logits = draftLogits[child + 1];
                    continue;
                }
                session.AcceptDraft(draft, node); // forget the draft tokens the model did not write
                drafting = false;
            }
            logits = session.Step(next, cancellationToken);
        }
        if (drafting)
        {
            session.AcceptDraft(draft, node);
        }
        return new Result(output, stepLogits, accepted, node);
    }
}
