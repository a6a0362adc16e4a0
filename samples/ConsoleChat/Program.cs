// A console chat guarded in-process: Llama Guard runs in this process (GuardModel) and checks every user message
// before the LLM sees it, and every answer before the user sees it.
//
//   dotnet run -- /path/to/Llama-Guard-3-11B-Vision
//
// The LLM: any OpenAI-compatible endpoint from OPENAI_API_KEY (and OPENAI_BASE_URL, OPENAI_MODEL for llama.cpp,
// vLLM, Ollama, ...). Without OPENAI_API_KEY a stand-in that repeats the user's message answers, so the guard can be
// tried without an LLM.
using System.ClientModel;
using LlamaGuardSharp.Extensions.AI;
using LlamaGuardSharp.Inference;
using Microsoft.Extensions.AI;
using OpenAI;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: ConsoleChat MODEL_DIR   (a Llama Guard 3 Vision folder; `llamaguard synth --preset tiny` makes a random-weight one)");
    return 1;
}

Console.Error.WriteLine($"Loading Llama Guard from {args[0]} ...");
using var guard = await GuardModel.LoadAsync(args[0]);

IChatClient llm = Environment.GetEnvironmentVariable("OPENAI_API_KEY") is { Length: > 0 } key
    ? new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = Environment.GetEnvironmentVariable("OPENAI_BASE_URL") is { Length: > 0 } url ? new Uri(url) : null,
        })
        .GetChatClient(Environment.GetEnvironmentVariable("OPENAI_MODEL") ?? "gpt-4o-mini")
        .AsIChatClient()
    : new EchoChatClient();

// The guard: three lines.
using IChatClient chat = llm.AsBuilder()
    .UseLlamaGuard(guard, o => o.OnViolation = GuardViolationAction.Refuse)
    .Build();

var history = new List<ChatMessage> { new(ChatRole.System, "You are a helpful assistant.") };
Console.Error.WriteLine("Type a message (empty line to quit).");
while (Console.ReadLine() is { Length: > 0 } line)
{
    history.Add(new ChatMessage(ChatRole.User, line));
    var updates = new List<ChatResponseUpdate>();
    await foreach (var update in chat.GetStreamingResponseAsync(history))
    {
        Console.Write(update.Text);
        updates.Add(update);
    }
    Console.WriteLine();
    var response = updates.ToChatResponse();
    if (response.FinishReason == ChatFinishReason.ContentFilter)
    {
        Console.Error.WriteLine("(blocked by Llama Guard)");
        history.RemoveAt(history.Count - 1); // the blocked exchange does not become context
        continue;
    }
    history.AddMessages(response);
}
return 0;

/// <summary>Stands in for an LLM when none is configured: answers with the user's last message.</summary>
internal sealed class EchoChatClient : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, $"You said: {messages.Last(m => m.Role == ChatRole.User).Text}")));

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
