using LlamaGuardSharp.Inference;

namespace LlamaGuardSharp.Tests.Inference;

/// <summary>The library checks every numeric option's range itself (the service builds options from configuration,
/// not from the CLI's validated flags), before any file is opened.</summary>
public sealed class GuardModelOptionsRangeTests
{
    public static TheoryData<string, GuardModelOptions> OutOfRange => new()
    {
        { "Threads", new GuardModelOptions { Threads = -1 } },
        { "Threads", new GuardModelOptions { Threads = GuardModelOptions.MaxThreads + 1 } },
        { "MaxNewTokens", new GuardModelOptions { MaxNewTokens = 0 } },
        { "MaxNewTokens", new GuardModelOptions { MaxNewTokens = GuardModelOptions.MaxNewTokensLimit + 1 } },
        { "MaxPromptTokens", new GuardModelOptions { MaxPromptTokens = 0 } },
        { "MaxPromptTokens", new GuardModelOptions { MaxPromptTokens = GuardModelOptions.MaxPromptTokensLimit + 1 } },
        { "ImageCacheSize", new GuardModelOptions { ImageCacheSize = -1 } },
        { "ImageCacheSize", new GuardModelOptions { ImageCacheSize = GuardModelOptions.MaxImageCacheSize + 1 } },
        { "PromptCacheTokens", new GuardModelOptions { PromptCacheTokens = -1 } },
        { "PromptCacheTokens", new GuardModelOptions { PromptCacheTokens = int.MaxValue } },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public async Task Out_of_range_options_are_refused_by_name_before_loading(string name, GuardModelOptions options)
    {
        // The folder does not exist: the options must be refused first, naming the setting and its range.
        string missing = Path.Combine(Path.GetTempPath(), $"lgs-no-model-{Guid.NewGuid():N}");
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => GuardModel.LoadAsync(missing, options));
        Assert.Equal(name, e.ParamName);
        Assert.Contains($"GuardModelOptions.{name} must be", e.Message);
    }

    [Theory]
    [InlineData("Precision")]
    [InlineData("Layout")]
    [InlineData("CrossAttentionMasking")]
    public async Task Undefined_enum_options_are_refused_by_name_before_loading(string name)
    {
        var options = name switch
        {
            "Precision" => new GuardModelOptions { Precision = (ComputePrecision)7 },
            "Layout" => new GuardModelOptions { Layout = (LlamaGuardSharp.Prompting.PromptLayout)7 },
            _ => new GuardModelOptions { CrossAttentionMasking = (LlamaGuardSharp.Model.CrossAttentionMasking)7 },
        };
        string missing = Path.Combine(Path.GetTempPath(), $"lgs-no-model-{Guid.NewGuid():N}");
        var e = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => GuardModel.LoadAsync(missing, options));
        Assert.Equal(name, e.ParamName);
    }

    [Fact]
    public async Task The_bounds_themselves_are_accepted()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"lgs-no-model-{Guid.NewGuid():N}");
        var options = new GuardModelOptions
        {
            Threads = GuardModelOptions.MaxThreads,
            MaxNewTokens = GuardModelOptions.MaxNewTokensLimit,
            MaxPromptTokens = GuardModelOptions.MaxPromptTokensLimit,
            ImageCacheSize = GuardModelOptions.MaxImageCacheSize,
            PromptCacheTokens = GuardModelOptions.MaxPromptCacheTokens,
        };
        // Past validation, the missing folder is what fails.
        var e = await Assert.ThrowsAnyAsync<Exception>(() => GuardModel.LoadAsync(missing, options));
        Assert.IsNotType<ArgumentOutOfRangeException>(e);
    }
}
