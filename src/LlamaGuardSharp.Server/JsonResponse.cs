using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LlamaGuardSharp.Server;

/// <summary>Writes JSON answers with a <see cref="Utf8JsonWriter"/> (no reflection; verdicts via <c>VerdictJson.Write</c>).</summary>
internal static class JsonResponse
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }
}
