using LlamaGuardSharp.Inference;
using LlamaGuardSharp.Model;
using LlamaGuardSharp.Prompting;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlamaGuardSharp.Server.Tests;

/// <summary>The production loader hands every model setting of the service's options to the model it loads.</summary>
public sealed class GuardModelLoaderTests(TinyModel tiny) : IClassFixture<TinyModel>
{
    [Fact]
    public async Task Settings_that_change_results_reach_the_model()
    {
        var options = new LlamaGuardServiceOptions
        {
            Model = tiny.Directory,
            Threads = 1,
            Layout = PromptLayout.MetaNative,
            CrossAttention = CrossAttentionMasking.Meta,
        };
        var loaded = await new GuardModelLoader(options, NullLogger<GuardModelLoader>.Instance).LoadAsync(CancellationToken.None);
        using var owner = loaded.Owner;
        var model = Assert.IsType<GuardModel>(loaded.Guard);
        Assert.Equal(PromptLayout.MetaNative, model.Options.Layout);
        Assert.Equal(CrossAttentionMasking.Meta, model.Options.CrossAttentionMasking);
        Assert.Equal(1, model.Options.Threads);
    }

    [Fact]
    public void Out_of_range_model_settings_name_the_setting()
    {
        var e = Assert.Throws<ArgumentException>(() => new LlamaGuardServiceOptions { Model = tiny.Directory, Threads = 100_000 }.Validate());
        Assert.Contains("Threads", e.Message);
    }
}
