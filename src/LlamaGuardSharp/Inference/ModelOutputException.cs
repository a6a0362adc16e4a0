namespace LlamaGuardSharp.Inference;

/// <summary>
/// The model computed something that cannot be a result — a NaN or infinite logit — so no verdict is given. It means
/// the checkpoint's weights (NaN/Inf values) or its config are broken, not that the conversation is unusual.
/// </summary>
public sealed class ModelOutputException(string message) : Exception(message)
{
    internal static ModelOutputException NonFiniteLogit(float value) => new(
        $"the model produced a non-finite logit ({value}); its weights or config hold invalid numbers (NaN, infinity or out-of-range values), so no verdict can be given");
}
