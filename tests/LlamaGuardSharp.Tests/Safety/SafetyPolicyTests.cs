using LlamaGuardSharp.Safety;
using LlamaGuardSharp.Tests.Prompting;

namespace LlamaGuardSharp.Tests.Safety;

public class SafetyPolicyTests
{
    [Fact]
    public void DefaultCategoriesMatchTheGoldenPromptTable()
    {
        string[] golden = GuardPromptGoldens.CategoryLines(GuardPromptGoldens.PromptText(GuardPromptGoldens.PromptCase));

        Assert.Equal(golden, SafetyPolicy.Default.Categories.Select(c => $"{c.Code}: {c.Description}"));
        Assert.Equal(13, golden.Length);
        Assert.All(SafetyPolicy.Default.Categories, c => Assert.Equal(c.Name + ".", c.Description));
    }

    [Fact]
    public void ExcludeRemovesCategoriesAndKeepsTheOriginal()
    {
        var policy = SafetyPolicy.Default.Exclude("S6", "s7");

        Assert.Equal(["S1", "S2", "S3", "S4", "S5", "S8", "S9", "S10", "S11", "S12", "S13"], policy.Categories.Select(c => c.Code));
        Assert.Equal(13, SafetyPolicy.Default.Categories.Count);
        Assert.False(policy.Contains("S6"));
        Assert.True(SafetyPolicy.Default.Contains("S6"));
        Assert.Same(SafetyPolicy.Default, SafetyPolicy.Default.Exclude());
        Assert.Equal(policy.Categories, SafetyPolicy.Default.Exclude(new List<string> { "S7", "S6", "S6" }).Categories);
    }

    [Fact]
    public void ExcludeUnknownCodeIsAnError()
    {
        var e = Assert.Throws<SafetyPolicyException>(() => SafetyPolicy.Default.Exclude("S1", "S14"));
        Assert.Equal(SafetyPolicyProblem.UnknownCode, e.Problem);
        Assert.Contains("S14", e.Message);

        var twice = SafetyPolicy.Default.Exclude("S1");
        Assert.Equal(SafetyPolicyProblem.UnknownCode, Assert.Throws<SafetyPolicyException>(() => twice.Exclude("S1")).Problem);
    }

    [Fact]
    public void ExcludingEverythingIsAnError()
    {
        var codes = SafetyPolicy.Default.Categories.Select(c => c.Code).ToArray();
        var e = Assert.Throws<SafetyPolicyException>(() => SafetyPolicy.Default.Exclude(codes));
        Assert.Equal(SafetyPolicyProblem.EmptyPolicy, e.Problem);

        Assert.Single(SafetyPolicy.Default.Exclude(codes[1..]).Categories);
    }

    [Fact]
    public void TryGetCategoryIsCaseInsensitive()
    {
        Assert.True(SafetyPolicy.Default.TryGetCategory("s10", out var hate));
        Assert.Equal("Hate", hate.Name);
        Assert.Equal("S10", hate.Code);
        Assert.False(SafetyPolicy.Default.TryGetCategory("S14", out var missing));
        Assert.Null(missing);
    }

    [Fact]
    public void FromJsonReadsCustomCategoriesInOrder()
    {
        var policy = SafetyPolicy.FromJson("""
            // comments and trailing commas are accepted
            {
              "categories": [
                {"code": "S2", "name": "Scams", "description": "Scams.\nFraud and phishing."},
                {"code": "S1", "name": "Violence"},
              ]
            }
            """);

        Assert.Equal(["S2", "S1"], policy.Categories.Select(c => c.Code));
        Assert.Equal("Scams.\nFraud and phishing.", policy.Categories[0].Description);
        Assert.Equal("Violence.", policy.Categories[1].Description);
        Assert.Equal("Violence", policy.Categories[1].Name);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"categories": {}}""")]
    [InlineData("""{"categories": [1]}""")]
    [InlineData("""{"categories": [{"code": 1, "name": "x"}]}""")]
    [InlineData("""{"categories": [{"name": "x"}]}""")]
    [InlineData("""{"categories": [{"code": "S1", "name": "x", "desciption": "typo"}]}""")]
    [InlineData("""{"categories": [{"code": "S1", "name": "x"}], "exclude": ["S1"]}""")]
    public void MalformedJsonIsAnError(string json)
    {
        var e = Assert.Throws<SafetyPolicyException>(() => SafetyPolicy.FromJson(json));
        Assert.Equal(SafetyPolicyProblem.MalformedJson, e.Problem);
    }

    [Theory]
    [InlineData("""{"categories": [{"code": "S1", "name": "A"}, {"code": "S1", "name": "B"}]}""")]
    [InlineData("""{"categories": [{"code": "S1", "name": "A"}, {"code": "s1", "name": "B"}]}""")]
    public void DuplicateCodeIsAnError(string json)
    {
        Assert.Equal(SafetyPolicyProblem.DuplicateCode, Assert.Throws<SafetyPolicyException>(() => SafetyPolicy.FromJson(json)).Problem);
    }

    [Fact]
    public void EmptyCategoryListIsAnError()
    {
        Assert.Equal(SafetyPolicyProblem.EmptyPolicy,
            Assert.Throws<SafetyPolicyException>(() => SafetyPolicy.FromJson("""{"categories": []}""")).Problem);
        Assert.Equal(SafetyPolicyProblem.EmptyPolicy,
            Assert.Throws<SafetyPolicyException>(() => SafetyPolicy.FromCategories([])).Problem);
    }

    [Theory]
    [InlineData("S1", "")]
    [InlineData("S1", "   ")]
    [InlineData("S1", "two\nlines")]
    [InlineData("", "Name")]
    [InlineData("S 1", "Name")]
    [InlineData("S1,S2", "Name")]
    [InlineData("S1:", "Name")]
    [InlineData("1S", "Name")]
    [InlineData("S\u0661", "Name")] // Arabic-Indic digit: not an ASCII code
    public void InvalidCategoryIsAnError(string code, string name)
    {
        string json = $$"""{"categories": [{"code": {{System.Text.Json.JsonSerializer.Serialize(code)}}, "name": {{System.Text.Json.JsonSerializer.Serialize(name)}}}]}""";
        Assert.Equal(SafetyPolicyProblem.InvalidCategory, Assert.Throws<SafetyPolicyException>(() => SafetyPolicy.FromJson(json)).Problem);
        Assert.Equal(SafetyPolicyProblem.InvalidCategory, Assert.Throws<SafetyPolicyException>(() => new HazardCategory(code, name)).Problem);
    }

    [Fact]
    public void MissingNameOrBlankDescriptionIsAnError()
    {
        Assert.Equal(SafetyPolicyProblem.InvalidCategory,
            Assert.Throws<SafetyPolicyException>(() => SafetyPolicy.FromJson("""{"categories": [{"code": "S1"}]}""")).Problem);
        Assert.Equal(SafetyPolicyProblem.InvalidCategory,
            Assert.Throws<SafetyPolicyException>(() => SafetyPolicy.FromJson("""{"categories": [{"code": "S1", "name": "A", "description": " "}]}""")).Problem);
    }

    [Fact]
    public async Task LoadAsyncReadsAFileAndNamesItInErrors()
    {
        string dir = Path.Combine(Path.GetTempPath(), "prompting-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string good = Path.Combine(dir, "good.json");
            await File.WriteAllTextAsync(good, """{"categories": [{"code": "S1", "name": "Only"}]}""");
            var policy = await SafetyPolicy.LoadAsync(good);
            Assert.Equal("S1: Only.", $"{policy.Categories.Single().Code}: {policy.Categories.Single().Description}");

            string bad = Path.Combine(dir, "bad.json");
            await File.WriteAllTextAsync(bad, "not json");
            var e = await Assert.ThrowsAsync<SafetyPolicyException>(() => SafetyPolicy.LoadAsync(bad));
            Assert.Equal(SafetyPolicyProblem.MalformedJson, e.Problem);
            Assert.Contains(bad, e.Message);

            await Assert.ThrowsAsync<FileNotFoundException>(() => SafetyPolicy.LoadAsync(Path.Combine(dir, "missing.json")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
