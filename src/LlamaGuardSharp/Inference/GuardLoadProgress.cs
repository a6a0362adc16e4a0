namespace LlamaGuardSharp.Inference;

/// <summary>Progress of <see cref="GuardModel.LoadAsync"/>: a stage name and the fraction of the whole load done (0–1).</summary>
public sealed record GuardLoadProgress(string Stage, double Fraction);
