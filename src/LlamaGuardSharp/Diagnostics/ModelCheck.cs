namespace LlamaGuardSharp.Diagnostics;

/// <summary>How a <see cref="ModelCheck"/> came out.</summary>
internal enum ModelCheckStatus
{
    /// <summary>Fine.</summary>
    Ok,
    /// <summary>The model runs, but not as well as it could (slow CPU path, too little memory for the page cache…).</summary>
    Warning,
    /// <summary>The model cannot run (or would give wrong answers) until this is fixed.</summary>
    Problem,
}

/// <summary>One finding of <see cref="ModelDoctor"/>.</summary>
/// <param name="Name">What was checked (<c>files</c>, <c>headers</c>, <c>tokenizer</c>, <c>memory</c>, <c>cpu</c>…).</param>
/// <param name="Status">The outcome.</param>
/// <param name="Detail">What was found.</param>
/// <param name="Fix">What to do about it (null when nothing is to be done).</param>
internal sealed record ModelCheck(string Name, ModelCheckStatus Status, string Detail, string? Fix = null);

/// <summary>The verdict-token ids the classifier depends on, as the model's tokenizer encodes them.</summary>
/// <param name="Safe">Token ids of <c>safe</c> (one id expected: 19193 in Llama 3).</param>
/// <param name="Unsafe">Token ids of <c>unsafe</c> (39257).</param>
/// <param name="DoubleNewline">Token ids of <c>\n\n</c> (271), which the HF chat template makes the model write first.</param>
/// <param name="Stop">Stop token ids (generation_config.json, else config.json, else the tokenizer's end tokens) with their text.</param>
internal sealed record VerdictTokenIds(IReadOnlyList<int> Safe, IReadOnlyList<int> Unsafe, IReadOnlyList<int> DoubleNewline, IReadOnlyDictionary<int, string?> Stop);

/// <summary>Everything <see cref="ModelDoctor.Examine"/> found about a model folder and this machine.</summary>
/// <param name="Folder">The model folder examined (a snapshot folder for hub caches).</param>
/// <param name="Checks">The findings, in the order they were made.</param>
/// <param name="TensorCount">Tensors in the checkpoint (0 when it could not be opened).</param>
/// <param name="MappedBytes">Bytes of tensor data that are memory-mapped.</param>
/// <param name="AvailableMemoryBytes">Memory available to this process (MemAvailable on Linux), -1 if unknown.</param>
/// <param name="Tokens">The verdict-token ids, when the tokenizer loaded.</param>
/// <param name="CpuFeatures">Instruction-set extensions that matter to the kernels, each with whether it is present.</param>
internal sealed record ModelDiagnosis(string Folder, IReadOnlyList<ModelCheck> Checks, int TensorCount, long MappedBytes, long AvailableMemoryBytes,
    VerdictTokenIds? Tokens, IReadOnlyDictionary<string, bool> CpuFeatures)
{
    /// <summary>True when no check found a <see cref="ModelCheckStatus.Problem"/>.</summary>
    public bool IsHealthy => Checks.All(c => c.Status != ModelCheckStatus.Problem);
}
