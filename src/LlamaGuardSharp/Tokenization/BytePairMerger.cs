namespace LlamaGuardSharp.Tokenization;

/// <summary>
/// The rank-based BPE merge loop over the bytes of one pre-token: start from single-byte tokens and repeatedly merge the adjacent
/// pair with the lowest priority (leftmost on ties) until no adjacent pair has a rule. Short inputs use a quadratic scan over
/// stack arrays (fastest for words); long ones use a heap with lazy invalidation so that pathological pre-tokens
/// (e.g. 100 KB of letters) stay O(n log n).
/// </summary>
internal static class BytePairMerger
{
    /// <summary>Pre-tokens up to this many bytes use the quadratic scan.</summary>
    internal const int ShortLimit = 96;

    /// <summary>Appends the token ids of <paramref name="bytes"/> (length ≥ 1) to <paramref name="output"/>.</summary>
    public static void Merge(ReadOnlySpan<byte> bytes, TokenByteTable vocabulary, PairMergeTable merges, ref TokenIdBuffer output)
    {
        if (bytes.Length <= ShortLimit)
        {
            MergeShort(bytes, vocabulary, merges, ref output);
        }
        else
        {
            MergeLong(bytes, vocabulary, merges, ref output);
        }
    }

    internal static void MergeShort(ReadOnlySpan<byte> bytes, TokenByteTable vocabulary, PairMergeTable merges, ref TokenIdBuffer output)
    {
        int n = bytes.Length;
        Span<int> ids = stackalloc int[n];
        Span<int> priorities = stackalloc int[n]; // priorities[i]: merging ids[i] with ids[i + 1]
        Span<int> mergedIds = stackalloc int[n];
        ReadOnlySpan<int> byteIds = vocabulary.SingleByteIds;
        for (int i = 0; i < n; i++)
        {
            ids[i] = byteIds[bytes[i]];
        }
        for (int i = 0; i < n - 1; i++)
        {
            priorities[i] = merges.GetPriority(ids[i], ids[i + 1], out mergedIds[i]);
        }
        while (n > 1)
        {
            int best = -1;
            int bestPriority = int.MaxValue;
            for (int i = 0; i < n - 1; i++)
            {
                if (priorities[i] < bestPriority)
                {
                    bestPriority = priorities[i];
                    best = i;
                }
            }
            if (best < 0)
            {
                break;
            }
            ids[best] = mergedIds[best];
            // Remove element best + 1.
            int tail = n - best - 2;
            ids.Slice(best + 2, tail).CopyTo(ids.Slice(best + 1));
            priorities.Slice(best + 2, tail).CopyTo(priorities.Slice(best + 1));
            mergedIds.Slice(best + 2, tail).CopyTo(mergedIds.Slice(best + 1));
            n--;
            if (best > 0)
            {
                priorities[best - 1] = merges.GetPriority(ids[best - 1], ids[best], out mergedIds[best - 1]);
            }
            if (best < n - 1)
            {
                priorities[best] = merges.GetPriority(ids[best], ids[best + 1], out mergedIds[best]);
            }
        }
        output.AddRange(ids.Slice(0, n));
    }

    internal static void MergeLong(ReadOnlySpan<byte> bytes, TokenByteTable vocabulary, PairMergeTable merges, ref TokenIdBuffer output)
    {
        int n = bytes.Length;
        // Nodes are the initial byte positions; a merge keeps the left node and unlinks the right one.
        int[] ids = new int[n];
        int[] next = new int[n];
        int[] prev = new int[n];
        int[] versions = new int[n]; // bumped whenever a node's id changes or it dies, invalidating queued pairs
        ReadOnlySpan<int> byteIds = vocabulary.SingleByteIds;
        for (int i = 0; i < n; i++)
        {
            ids[i] = byteIds[bytes[i]];
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }
        // Heap element: (priority, left node) → ordering gives lowest priority, then leftmost; the payload records versions.
        var heap = new PriorityQueue<(int Left, int Right, int LeftVersion, int RightVersion, int Merged), (int Priority, int Left)>(n);
        void Enqueue(int left)
        {
            int right = next[left];
            if (right < 0)
            {
                return;
            }
            int priority = merges.GetPriority(ids[left], ids[right], out int merged);
            if (priority != int.MaxValue)
            {
                heap.Enqueue((left, right, versions[left], versions[right], merged), (priority, left));
            }
        }
        for (int i = 0; i < n - 1; i++)
        {
            Enqueue(i);
        }
        while (heap.TryDequeue(out var pair, out _))
        {
            if (versions[pair.Left] != pair.LeftVersion || versions[pair.Right] != pair.RightVersion || next[pair.Left] != pair.Right)
            {
                continue; // stale
            }
            int left = pair.Left;
            int right = pair.Right;
            ids[left] = pair.Merged;
            versions[left]++;
            versions[right]++;
            int after = next[right];
            next[left] = after;
            if (after >= 0)
            {
                prev[after] = left;
            }
            next[right] = -2; // dead
            if (prev[left] >= 0)
            {
                Enqueue(prev[left]);
            }
            Enqueue(left);
        }
        for (int node = 0; node >= 0; node = next[node])
        {
            output.Add(ids[node]);
        }
    }
}
