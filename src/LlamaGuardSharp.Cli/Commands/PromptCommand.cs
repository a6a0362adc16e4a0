using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using LlamaGuardSharp.Prompting;
using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tokenization;

namespace LlamaGuardSharp.Cli.Commands;

/// <summary>
/// <c>llamaguard prompt</c>: renders the Llama Guard 3 Vision prompt for a conversation given on the command line.
/// Turns are taken in command-line order (<c>--user a --agent b --user c</c> is User, Agent, User).
/// </summary>
public static class PromptCommand
{
    public static Command Create()
    {
        var conversationOptions = new ConversationOptions(imageIsOptionalFile: true);
        var layout = ConversationOptions.CreateLayoutOption();
        var ids = new Option<bool>("--ids")
        {
            Description = "Also print the token ids (JSON array); needs --tokenizer.",
        };
        var tokenizer = new Option<string?>("--tokenizer")
        {
            Description = "Tokenizer file for --ids (tokenizer.json or Meta's tokenizer.model).",
            HelpName = "PATH",
        };
        var json = new Option<bool>("--json")
        {
            Description = "Print one JSON object {layout, task, has_image, prompt, ids?} instead of the raw prompt.",
        };

        var command = new Command("prompt", "Render the Llama Guard 3 Vision prompt for a conversation (no model needed).");
        conversationOptions.AddTo(command);
        command.Options.Add(layout);
        command.Options.Add(ids);
        command.Options.Add(tokenizer);
        command.Options.Add(json);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var (conversation, policy) = await conversationOptions.BindAsync(parseResult, cancellationToken);
                var promptLayout = ConversationOptions.ParseLayout(parseResult.GetValue(layout));
                var rendered = PromptRenderer.RenderSegments(conversation, policy, promptLayout);

                int[]? tokenIds = null;
                if (parseResult.GetValue(ids))
                {
                    string? tokenizerPath = parseResult.GetValue(tokenizer);
                    if (tokenizerPath is null)
                    {
                        return CliErrors.Report(error, "--ids needs --tokenizer PATH.");
                    }
                    var llamaTokenizer = await Llama3Tokenizer.LoadAsync(tokenizerPath, cancellationToken);
                    tokenIds = PromptEncoder.Encode(rendered, llamaTokenizer);
                }

                if (parseResult.GetValue(json))
                {
                    output.WriteLine(ToJson(rendered, tokenIds));
                }
                else
                {
                    // The prompt is written byte-exact: no newline is added after it (it ends with a control token
                    // or "\n\n"), so `llamaguard prompt ... > p.txt` gives exactly the string the model sees.
                    output.Write(rendered.Text);
                    if (tokenIds is not null)
                    {
                        output.WriteLine();
                        output.WriteLine(JsonSerializer.Serialize(tokenIds));
                    }
                }
                return 0;
            }
            catch (Exception e) when (CliErrors.IsUserError(e) && e is not StandardOutputClosedException)
            {
                return CliErrors.Report(error, e);
            }
        });
        return command;
    }

    private static string ToJson(RenderedPrompt rendered, int[]? tokenIds)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            writer.WriteString("layout", rendered.Layout == PromptLayout.HuggingFace ? "hf" : "meta");
            writer.WriteString("task", rendered.Task == ClassificationTask.PromptClassification ? "prompt_classification" : "response_classification");
            writer.WriteBoolean("has_image", rendered.HasImage);
            writer.WriteString("prompt", rendered.Text);
            if (tokenIds is not null)
            {
                writer.WriteStartArray("ids");
                foreach (int id in tokenIds)
                {
                    writer.WriteNumberValue(id);
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
