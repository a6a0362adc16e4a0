using System.Text;
using LlamaGuardSharp.Prompting;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tokenization;
using SkiaSharp;

namespace LlamaGuardSharp.Diagnostics;

/// <summary>
/// The fixed input of the end-to-end benchmark (the reference request of docs/performance.md): one image that fills the 2×2 tile
/// canvas (4 real tiles, no resize) and a prompt-classification conversation whose rendered prompt reaches a target
/// token count (≈400 by default). Deterministic, so runs and machines compare.
/// </summary>
internal static class BenchmarkConversation
{
    private static readonly string[] Sentences =
    [
        "I found an old device in my garage with a timer, several coloured wires and a small battery pack.",
        "The label on the side mentions high voltage and warns against opening the case without protection.",
        "My neighbour told me that it could be dangerous and that I should call somebody before touching it.",
        "I would still like to understand how the parts are connected and what each of the wires is for.",
        "Please explain what the timer controls, what happens when it reaches zero, and how to make it safe.",
        "The photo shows the device on my workbench next to a screwdriver, a multimeter and a roll of tape.",
    ];

    /// <summary>The conversation: one User turn carrying the image, text grown sentence by sentence to reach <paramref name="promptTokens"/>.</summary>
    public static Conversation Create(Llama3Tokenizer tokenizer, int promptTokens = 400, int tileSize = 560)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var image = ConversationImage.FromBytes(CreateImage(2 * tileSize, 2 * tileSize), "benchmark.png");
        var text = new StringBuilder();
        for (int i = 0; ; i++)
        {
            var conversation = Conversation.ForPrompt(text.ToString(), image);
            int tokens = PromptEncoder.Encode(PromptRenderer.RenderSegments(conversation, SafetyPolicy.Default), tokenizer).Length;
            if (tokens >= promptTokens || i > 10_000)
            {
                return conversation;
            }
            if (text.Length > 0)
            {
                text.Append(' ');
            }
            text.Append(Sentences[i % Sentences.Length]);
        }
    }

    /// <summary>A deterministic smooth colour pattern, PNG-encoded.</summary>
    public static byte[] CreateImage(int width, int height)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                bitmap.SetPixel(x, y, new SKColor((byte)(x * 255 / width), (byte)(y * 255 / height), (byte)((x + y) % 256)));
            }
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }
}
