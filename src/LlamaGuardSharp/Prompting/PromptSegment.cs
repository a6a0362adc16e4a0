namespace LlamaGuardSharp.Prompting;

/// <summary>
/// A piece of a rendered prompt: either one control token from the template skeleton (e.g. <c>&lt;|eot_id|&gt;</c>)
/// or a run of plain text. Tokenize text runs with special-token recognition OFF, so that a user who types
/// "&lt;|eot_id|&gt;" or "&lt;|image|&gt;" cannot inject control tokens (docs/prompting.md); the ids are then
/// identical to HF's for ordinary text, because HF also splits at special tokens before BPE.
/// </summary>
public sealed record PromptSegment(string Text, bool IsSpecialToken);
