using System.Runtime.CompilerServices;
using LlamaGuardSharp.Inference;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlamaGuardSharp.Extensions.AI;

/// <summary>
/// A chat-client middleware that classifies the user's input with Llama Guard before calling the inner client and the
/// assistant's answer after it. A blocked input never reaches the inner client. Add it with
/// <see cref="LlamaGuardChatClientBuilderExtensions.UseLlamaGuard"/>.
/// </summary>
/// <remarks>
/// The verdicts of an exchange that was let through are in the response's <see cref="ChatResponse.AdditionalProperties"/>
/// under <see cref="InputVerdictKey"/> and <see cref="OutputVerdictKey"/> (for a stream: on its last update). When the
/// input needed several classifications (images), the verdict reported for it is the one with the highest p(unsafe).
/// </remarks>
public sealed class LlamaGuardChatClient : DelegatingChatClient
{
    /// <summary>The <see cref="AdditionalPropertiesDictionary"/> key of the input's <see cref="SafetyVerdict"/>.</summary>
    public const string InputVerdictKey = "llamaguard.input_verdict";

    /// <summary>The <see cref="AdditionalPropertiesDictionary"/> key of the answer's <see cref="SafetyVerdict"/>.</summary>
    public const string OutputVerdictKey = "llamaguard.output_verdict";

    private readonly IContentGuard _guard;
    private readonly LlamaGuardChatOptions _options;
    private readonly ChatImageResolver _images;
    private readonly HttpClient? _ownedImageClient;
    private readonly ILogger _logger;

    /// <summary>Wraps <paramref name="innerClient"/> with the guard.</summary>
    /// <param name="innerClient">The chat client (the application's LLM) to guard.</param>
    /// <param name="guard">The classifier: a <see cref="GuardModel"/> in-process or a <see cref="LlamaGuardClient"/>.</param>
    /// <param name="options">The guard's behaviour; null: the defaults (both sides checked, throw, fail closed).</param>
    /// <param name="imageHttpClient">Downloads images given as <see cref="UriContent"/> from allowed hosts; null: such images are refused.</param>
    /// <param name="logger">Where blocked exchanges are logged (side, verdict, categories, p(unsafe); never the content); null: not logged.</param>
    public LlamaGuardChatClient(IChatClient innerClient, IContentGuard guard, LlamaGuardChatOptions? options = null, HttpClient? imageHttpClient = null,
        ILogger<LlamaGuardChatClient>? logger = null)
        : this(innerClient, guard, options, imageHttpClient, ownsImageHttpClient: false, logger)
    {
    }

    /// <summary>The public constructor's work; <c>UseLlamaGuard</c> hands over an image client it created.</summary>
    /// <param name="innerClient">The chat client to guard.</param>
    /// <param name="guard">The classifier.</param>
    /// <param name="options">The guard's behaviour.</param>
    /// <param name="imageHttpClient">Downloads allowed image URIs.</param>
    /// <param name="ownsImageHttpClient">Whether this client created <paramref name="imageHttpClient"/> and disposes it.</param>
    /// <param name="logger">Where blocked exchanges are logged.</param>
    internal LlamaGuardChatClient(IChatClient innerClient, IContentGuard guard, LlamaGuardChatOptions? options, HttpClient? imageHttpClient, bool ownsImageHttpClient,
        ILogger<LlamaGuardChatClient>? logger)
        : base(innerClient)
    {
        ArgumentNullException.ThrowIfNull(guard);
        _guard = guard;
        _options = options ?? new LlamaGuardChatOptions();
        _options.Validate();
        _images = new ChatImageResolver(imageHttpClient, _options);
        _ownedImageClient = ownsImageHttpClient ? imageHttpClient : null;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>The options this client was built with.</summary>
    public LlamaGuardChatOptions Options => _options;

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages as IList<ChatMessage> ?? messages.ToList(); // read twice: by the guard and by the inner client
        var (conversations, inputVerdict) = await CheckInputAsync(list, cancellationToken).ConfigureAwait(false);
        if (inputVerdict is not null && _options.IsViolation(inputVerdict))
        {
            return Refusal(GuardedSide.Input, inputVerdict, null);
        }

        var response = await base.GetResponseAsync(list, options, cancellationToken).ConfigureAwait(false);

        var outputVerdict = await CheckOutputAsync(conversations, response.Text, cancellationToken).ConfigureAwait(false);
        if (outputVerdict is not null && _options.IsViolation(outputVerdict))
        {
            var refusal = Refusal(GuardedSide.Output, outputVerdict, inputVerdict);
            refusal.ResponseId = response.ResponseId;
            refusal.ConversationId = response.ConversationId;
            refusal.ModelId = response.ModelId;
            refusal.CreatedAt = response.CreatedAt;
            refusal.Usage = response.Usage;
            return refusal;
        }
        if (inputVerdict is not null || outputVerdict is not null)
        {
            Annotate(response.AdditionalProperties ??= [], inputVerdict, outputVerdict);
        }
        return response;
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages as IList<ChatMessage> ?? messages.ToList();
        var (conversations, inputVerdict) = await CheckInputAsync(list, cancellationToken).ConfigureAwait(false);
        if (inputVerdict is not null && _options.IsViolation(inputVerdict))
        {
            yield return RefusalUpdate(GuardedSide.Input, inputVerdict, null);
            yield break;
        }

        bool buffer = _options.CheckOutput && _options.StreamingMode == GuardStreamingMode.BufferUntilChecked;
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in base.GetStreamingResponseAsync(list, options, cancellationToken).ConfigureAwait(false))
        {
            if (_options.CheckOutput)
            {
                updates.Add(update);
            }
            if (!buffer)
            {
                yield return update;
            }
        }

        SafetyVerdict? outputVerdict = null;
        if (_options.CheckOutput)
        {
            string answer = updates.ToChatResponse().Text;
            outputVerdict = await CheckOutputAsync(conversations, answer, cancellationToken).ConfigureAwait(false);
            if (outputVerdict is not null && _options.IsViolation(outputVerdict))
            {
                // Buffered: the caller saw nothing of the answer. Live: the refusal follows the streamed text as a
                // message of its own (a new MessageId), so ToChatResponse() shows both and the caller can retract the first.
                yield return RefusalUpdate(GuardedSide.Output, outputVerdict, inputVerdict, updates);
                yield break;
            }
        }
        if (buffer)
        {
            foreach (var update in updates)
            {
                yield return update;
            }
        }
        var verdicts = new ChatResponseUpdate { Role = ChatRole.Assistant, AdditionalProperties = [] };
        Annotate(verdicts.AdditionalProperties, inputVerdict, outputVerdict);
        if (verdicts.AdditionalProperties.Count > 0)
        {
            verdicts.MessageId = updates.LastOrDefault(u => u.MessageId is not null)?.MessageId;
            yield return verdicts;
        }
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return base.GetService(serviceType, serviceKey) ?? (serviceKey is null && serviceType.IsInstanceOfType(_guard) ? _guard : null);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _ownedImageClient?.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>Builds the guard's view of the chat and, with <see cref="LlamaGuardChatOptions.CheckInput"/>, judges the input.</summary>
    private async Task<(GuardConversations Conversations, SafetyVerdict? Verdict)> CheckInputAsync(IEnumerable<ChatMessage> messages, CancellationToken cancellationToken)
    {
        var conversations = await GuardConversations.CreateAsync(messages, _images, cancellationToken).ConfigureAwait(false);
        if (!_options.CheckInput)
        {
            return (conversations, null);
        }
        SafetyVerdict? reported = null;
        foreach (var conversation in conversations.ForInput())
        {
            var verdict = await _guard.ClassifyAsync(conversation, _options.Policy, cancellationToken).ConfigureAwait(false);
            if (_options.IsViolation(verdict))
            {
                return (conversations, verdict);
            }
            if (reported is null || verdict.UnsafeProbability > reported.UnsafeProbability)
            {
                reported = verdict;
            }
        }
        return (conversations, reported);
    }

    /// <summary>Judges the answer (response classification) with <see cref="LlamaGuardChatOptions.CheckOutput"/>; null when off or there is no text to judge.</summary>
    private async Task<SafetyVerdict?> CheckOutputAsync(GuardConversations conversations, string answer, CancellationToken cancellationToken)
    {
        if (!_options.CheckOutput || string.IsNullOrWhiteSpace(answer) || conversations.ForOutput(answer) is not { } conversation)
        {
            return null;
        }
        return await _guard.ClassifyAsync(conversation, _options.Policy, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Throws for <see cref="GuardViolationAction.Throw"/>; else the refusal response.</summary>
    private ChatResponse Refusal(GuardedSide side, SafetyVerdict verdict, SafetyVerdict? inputVerdict)
    {
        _logger.LogWarning("Llama Guard blocked the {Side}: {Verdict} [{Categories}], p(unsafe) = {UnsafeProbability:G4}; {Action}",
            side == GuardedSide.Input ? "input" : "output", verdict.Kind, string.Join(",", verdict.ViolatedCategories.Select(c => c.Code)),
            verdict.UnsafeProbability, _options.OnViolation);
        if (_options.OnViolation == GuardViolationAction.Throw)
        {
            throw new ContentGuardException(side, verdict, _options.DescribeViolation(verdict));
        }
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, _options.RefusalMessage))
        {
            FinishReason = ChatFinishReason.ContentFilter,
            AdditionalProperties = [],
        };
        Annotate(response.AdditionalProperties, side == GuardedSide.Input ? verdict : inputVerdict, side == GuardedSide.Output ? verdict : null);
        return response;
    }

    /// <summary>Throws for <see cref="GuardViolationAction.Throw"/>; else the refusal as one streamed update.</summary>
    /// <param name="side">The blocked side.</param>
    /// <param name="verdict">Its verdict.</param>
    /// <param name="inputVerdict">The input's verdict when the output is blocked.</param>
    /// <param name="streamed">The inner client's updates (for an output refusal), whose response and model ids the refusal keeps.</param>
    private ChatResponseUpdate RefusalUpdate(GuardedSide side, SafetyVerdict verdict, SafetyVerdict? inputVerdict, IReadOnlyList<ChatResponseUpdate>? streamed = null)
    {
        var response = Refusal(side, verdict, inputVerdict);
        return new ChatResponseUpdate(ChatRole.Assistant, _options.RefusalMessage)
        {
            FinishReason = ChatFinishReason.ContentFilter,
            ResponseId = streamed?.LastOrDefault(u => u.ResponseId is not null)?.ResponseId,
            ModelId = streamed?.LastOrDefault(u => u.ModelId is not null)?.ModelId,
            MessageId = Guid.NewGuid().ToString("N"),
            AdditionalProperties = response.AdditionalProperties,
        };
    }

    private static void Annotate(AdditionalPropertiesDictionary properties, SafetyVerdict? input, SafetyVerdict? output)
    {
        if (input is not null)
        {
            properties[InputVerdictKey] = input;
        }
        if (output is not null)
        {
            properties[OutputVerdictKey] = output;
        }
    }
}
