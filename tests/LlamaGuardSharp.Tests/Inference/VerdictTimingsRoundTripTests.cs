using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Tests.Inference;

/// <summary>Times are written as seconds; reading them back must give the same ticks (TimeSpan.FromSeconds truncates).</summary>
public sealed class VerdictTimingsRoundTripTests
{
    [Theory]
    [InlineData(252815L)]
    [InlineData(2530955L)]
    [InlineData(1L)]
    [InlineData(9_999_999_999L)]
    public void Every_tick_count_round_trips(long ticks)
    {
        var time = TimeSpan.FromTicks(ticks);
        var verdict = new SafetyVerdict(VerdictKind.Safe, ClassificationTask.PromptClassification, [], [], 0.1, 0.9, [], "safe", [1, 2], 10,
            new ClassificationTimings(time, time, time, time, time, time));
        var back = VerdictJson.Deserialize(VerdictJson.Serialize(verdict));
        Assert.Equal(time, back.Timings.Load);
        Assert.Equal(time, back.Timings.Total);
    }
}
