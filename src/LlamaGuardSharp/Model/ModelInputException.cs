namespace LlamaGuardSharp.Model;

/// <summary>The inputs given to the model are inconsistent with it or with each other (wrong shapes, ids out of range…).</summary>
public sealed class ModelInputException(string message) : Exception(message);
