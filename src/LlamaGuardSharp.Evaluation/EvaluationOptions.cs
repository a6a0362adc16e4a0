namespace LlamaGuardSharp.Evaluation;

/// <summary>How metrics are computed from results (<see cref="EvaluationMetrics.Compute"/>).</summary>
public sealed record EvaluationOptions
{
    /// <summary>The decision threshold on p(unsafe): unsafe when p ≥ threshold. Default 0.5, as the model card.</summary>
    public double Threshold { get; init; } = 0.5;

    /// <summary>Find the lowest threshold whose false-positive rate is at most this (null: not asked).</summary>
    public double? TargetFalsePositiveRate { get; init; }

    /// <summary>Find the highest threshold whose recall is at least this (null: not asked).</summary>
    public double? TargetRecall { get; init; }

    /// <summary>Bootstrap resamples for the 95 % intervals; 0 turns them off.</summary>
    public int BootstrapResamples { get; init; } = 1000;

    /// <summary>The bootstrap's seed (same seed, same intervals).</summary>
    public ulong Seed { get; init; }

    /// <summary>Equal-width bins of the reliability diagram and the expected calibration error.</summary>
    public int CalibrationBins { get; init; } = 10;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option out of range.</summary>
    public void Validate()
    {
        if (!(Threshold >= 0 && Threshold <= 1)) throw new ArgumentException($"The threshold must be in [0, 1] (got {Threshold}).");
        if (TargetFalsePositiveRate is { } fpr && !(fpr >= 0 && fpr <= 1)) throw new ArgumentException($"The target FPR must be in [0, 1] (got {fpr}).");
        if (TargetRecall is { } recall && !(recall >= 0 && recall <= 1)) throw new ArgumentException($"The target recall must be in [0, 1] (got {recall}).");
        if (BootstrapResamples < 0) throw new ArgumentException($"The bootstrap resamples must be ≥ 0 (got {BootstrapResamples}).");
        if (CalibrationBins < 1) throw new ArgumentException($"The calibration bins must be ≥ 1 (got {CalibrationBins}).");
    }
}
