using System.Diagnostics;
using System.Net.Http.Json;
using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Safety;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace LlamaGuardSharp.Server.Tests;

/// <summary>
/// What the service adds to a classification: the same conversation classified directly (<see cref="GuardModel.ClassifyAsync"/>)
/// and through Kestrel on loopback (HTTP, JSON in and out, queue, metrics), interleaved, medians compared. The figures
/// in docs/service.md come from this test's output.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed class OverheadTests(TinyModel model, ITestOutputHelper output)
{
    /// <summary>Rounds per measurement; LGS_OVERHEAD_ROUNDS raises it for the documented figures.</summary>
    private static readonly int Rounds = int.TryParse(Environment.GetEnvironmentVariable("LGS_OVERHEAD_ROUNDS"), out int rounds) && rounds > 0 ? rounds : 15;

    [Fact]
    public async Task ServiceAddsLittleOverADirectClassification()
    {
        var app = LlamaGuardServer.Build([], new Dictionary<string, string?> { ["urls"] = "http://127.0.0.1:0", ["Logging:LogLevel:Default"] = "Warning" },
            services => services.AddSingleton<IContentGuardLoader>(new FixedLoader(new LoadedGuard(model.Model, "tiny", TimeSpan.Zero, null))));
        await app.StartAsync();
        try
        {
            string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            using var client = new HttpClient { BaseAddress = new Uri(address) };
            var text = Conversation.ForPrompt("How do I keep my houseplants alive while travelling?");
            var image = Conversation.ForPrompt("What is in this picture?", Safety.ConversationImage.FromBytes(TinyModel.Png));

            var (directText, servedText) = await MeasureAsync(text, () => client.PostAsJsonAsync("/v1/classify",
                new { turns = new[] { new { role = "user", content = "How do I keep my houseplants alive while travelling?" } } }));
            var (directModeration, servedModeration) = await MeasureAsync(text, () => client.PostAsJsonAsync("/v1/moderations",
                new { input = "How do I keep my houseplants alive while travelling?" }));
            var (directImage, servedImage) = await MeasureAsync(image, () => client.PostAsJsonAsync("/v1/moderations", new
            {
                input = new object[]
                {
                    new { type = "text", text = "What is in this picture?" },
                    new { type = "image_url", image_url = new { url = TinyModel.PngDataUrl } },
                },
            }));
            output.WriteLine($"median ms over {Rounds} rounds of wall time outside the engine's own total (direct ClassifyAsync → service, overhead):");
            output.WriteLine($"  /v1/classify text:      {directText:F2} → {servedText:F2}  (+{servedText - directText:F2})");
            output.WriteLine($"  /v1/moderations text:   {directModeration:F2} → {servedModeration:F2}  (+{servedModeration - directModeration:F2})");
            output.WriteLine($"  /v1/moderations image:  {directImage:F2} → {servedImage:F2}  (+{servedImage - directImage:F2})");
            // The target is 2 ms; the bound leaves room for a machine shared with other builds.
            Assert.InRange(servedText - directText, -15, 15);
            Assert.InRange(servedModeration - directModeration, -15, 15);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private async Task<(double DirectOutside, double ServedOutside)> MeasureAsync(Conversation conversation, Func<Task<HttpResponseMessage>> send)
    {
        for (int i = 0; i < 3; i++) // warm-up: JIT, caches
        {
            await model.Model.ClassifyAsync(conversation);
            (await send()).EnsureSuccessStatusCode();
        }
        var direct = new List<double>();
        var served = new List<double>();
        var directEngine = new List<double>();
        var servedEngine = new List<double>();
        for (int i = 0; i < Rounds; i++)
        {
            long start = Stopwatch.GetTimestamp();
            var verdict = await model.Model.ClassifyAsync(conversation);
            direct.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            directEngine.Add(verdict.Timings.Total.TotalMilliseconds);
            start = Stopwatch.GetTimestamp();
            using var response = await send();
            string body = await response.Content.ReadAsStringAsync();
            served.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            var root = System.Text.Json.JsonDocument.Parse(body).RootElement;
            var served1 = root.TryGetProperty("results", out var results) ? results[0].GetProperty("llama_guard") : root;
            servedEngine.Add(served1.GetProperty("timings_s").GetProperty("total").GetDouble() * 1000);
            Assert.True(response.IsSuccessStatusCode);
        }
        // Wall time minus the engine's own total, per call: what surrounds the classification (the engine's
        // after-classification GC for the direct call; that plus HTTP, JSON, queue and metrics for the service).
        // Comparing these is far less noisy than comparing wall times on a shared machine.
        return (Median(direct.Zip(directEngine, (w, e) => w - e).ToList()), Median(served.Zip(servedEngine, (w, e) => w - e).ToList()));
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
