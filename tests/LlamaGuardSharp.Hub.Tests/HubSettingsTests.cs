namespace LlamaGuardSharp.Hub.Tests;

/// <summary>The HF_* environment read as huggingface_hub's constants.py reads it.</summary>
public sealed class HubSettingsTests
{
    private static HubSettings Read(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value);
        return HubSettings.FromEnvironment(name => map.GetValueOrDefault(name));
    }

    [Fact]
    public void Defaults_are_the_public_hub_and_the_cache_under_HF_HOME()
    {
        using var temp = new TempFolder();
        var settings = Read(("HF_HOME", temp.Path));
        Assert.Equal(new Uri("https://huggingface.co"), settings.Endpoint);
        Assert.Equal(Path.Combine(temp.Path, "hub"), settings.CacheDirectory);
        Assert.Null(settings.Token);
        Assert.False(settings.Offline);
    }

    [Fact]
    public void XDG_CACHE_HOME_is_the_parent_of_the_default_HF_HOME()
    {
        using var temp = new TempFolder();
        Assert.Equal(Path.Combine(temp.Path, "huggingface", "hub"), Read(("XDG_CACHE_HOME", temp.Path)).CacheDirectory);
    }

    [Fact]
    public void HF_HUB_CACHE_beats_the_legacy_variable_and_HF_HOME()
    {
        var settings = Read(("HF_HOME", "/h"), ("HUGGINGFACE_HUB_CACHE", "/legacy"), ("HF_HUB_CACHE", "/cache"));
        Assert.Equal("/cache", settings.CacheDirectory);
        Assert.Equal("/legacy", Read(("HF_HOME", "/h"), ("HUGGINGFACE_HUB_CACHE", "/legacy")).CacheDirectory);
    }

    [Fact]
    public void The_token_comes_from_HF_TOKEN_else_the_stored_token_file()
    {
        using var temp = new TempFolder();
        File.WriteAllText(Path.Combine(temp.Path, "token"), "hf_from_file\n");
        Assert.Equal("hf_from_file", Read(("HF_HOME", temp.Path)).Token);
        Assert.Equal("hf_from_env", Read(("HF_HOME", temp.Path), ("HF_TOKEN", "hf_from_env")).Token);
        File.WriteAllText(Path.Combine(temp.Path, "other"), "hf_other");
        Assert.Equal("hf_other", Read(("HF_HOME", temp.Path), ("HF_TOKEN_PATH", Path.Combine(temp.Path, "other"))).Token);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("ON", true)]
    [InlineData("yes", true)]
    [InlineData("True", true)]
    [InlineData("0", false)]
    [InlineData("false", false)]
    [InlineData("", false)]
    public void HF_HUB_OFFLINE_uses_huggingface_hub_truth_values(string value, bool offline)
    {
        Assert.Equal(offline, Read(("HF_HUB_OFFLINE", value)).Offline);
    }

    [Fact]
    public void HF_ENDPOINT_loses_its_trailing_slash_and_must_be_http()
    {
        Assert.Equal("http://127.0.0.1:9", Read(("HF_ENDPOINT", "http://127.0.0.1:9/")).BaseAddress);
        Assert.Equal("http://h/mirror", Read(("HF_ENDPOINT", "http://h/mirror/")).BaseAddress);
        Assert.Equal("http://h/mirror", Read(("HF_ENDPOINT", "http://h/mirror")).BaseAddress);
        Assert.Equal("https://huggingface.co", Read().BaseAddress);
        Assert.Equal("http://h/mirror", new HubSettings(new Uri("http://h/mirror/"), "/c", null, false).BaseAddress);
        var e = Assert.Throws<ArgumentException>(() => Read(("HF_ENDPOINT", "ftp://x")));
        Assert.Contains("HF_ENDPOINT", e.Message);
    }
}
