namespace LlamaGuardSharp.Evaluation;

/// <summary>
/// The decision "unsafe when p(unsafe) ≥ <see cref="Threshold"/>" and its confusion matrix. One point of the PR and ROC
/// curves and of the threshold sweep.
/// </summary>
public sealed record ThresholdPoint(double Threshold, ConfusionMatrix Matrix);
