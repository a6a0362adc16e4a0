using CsCheck;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Tests.Safety;

public class VerdictParserTests
{
    [Theory]
    [InlineData("safe")]
    [InlineData("\n\nsafe")]
    [InlineData("\n\nsafe<|eot_id|>")]
    [InlineData("safe<|eot_id|>\n")]
    [InlineData("  Safe \n")]
    [InlineData("safe<|eom_id|>")]
    [InlineData("safe<|end_of_text|>")]
    public void SafeAnswers(string text)
    {
        var verdict = VerdictParser.Parse(text, SafetyPolicy.Default);

        Assert.Equal(VerdictKind.Safe, verdict.Kind);
        Assert.True(verdict.IsSafe);
        Assert.Empty(verdict.Categories);
        Assert.Empty(verdict.UnknownCodes);
        Assert.Null(verdict.Problem);
        Assert.Same(text, verdict.RawText);
    }

    [Theory]
    [InlineData("unsafe\nS1", "S1")]
    [InlineData("\n\nunsafe\nS2<|eot_id|>", "S2")]
    [InlineData("unsafe\nS1,S10", "S1,S10")]
    [InlineData("unsafe\r\nS3, S13 \n", "S3,S13")]
    [InlineData("UNSAFE\ns11", "S11")]
    [InlineData("unsafe\nS5,S1,S5", "S5,S1")]
    [InlineData("unsafe  \n  S9 , S12<|eot_id|>  ", "S9,S12")]
    // llama-stack reads every "unsafe" answer with a category line as a violation; a stray separator must not turn a
    // violation into Unparseable, so commas and whitespace both separate codes (fail closed).
    [InlineData("unsafe\nS1,", "S1")]
    [InlineData("unsafe\nS1,,S2", "S1,S2")]
    [InlineData("unsafe\nS1 S2", "S1,S2")]
    [InlineData("unsafe\n,S3", "S3")]
    [InlineData("unsafe\nS1 ,\t, S2 S1,<|eot_id|>", "S1,S2")]
    public void UnsafeAnswersResolveCategoriesInOrderWithoutDuplicates(string text, string expectedCodes)
    {
        var verdict = VerdictParser.Parse(text, SafetyPolicy.Default);

        Assert.Equal(VerdictKind.Unsafe, verdict.Kind);
        Assert.True(verdict.IsUnsafe);
        Assert.Equal(expectedCodes.Split(','), verdict.Categories.Select(c => c.Code));
        Assert.Equal(expectedCodes.Split(','), verdict.Codes);
        Assert.Empty(verdict.UnknownCodes);
        Assert.All(verdict.Categories, c => Assert.Same(c, SafetyPolicy.Default.Categories.Single(d => d.Code == c.Code)));
    }

    /// <summary>A code-shaped word outside the policy ("violence") is a violation with an unknown code, as
    /// llama-stack reports it; only text that is not code-shaped is Unparseable.</summary>
    [Fact]
    public void ACodeShapedWordOutsideThePolicyIsAnUnknownCode()
    {
        var verdict = VerdictParser.Parse("unsafe\nviolence", SafetyPolicy.Default);

        Assert.Equal(VerdictKind.Unsafe, verdict.Kind);
        Assert.Empty(verdict.Categories);
        Assert.Equal(["violence"], verdict.UnknownCodes);
        Assert.Equal(["violence"], verdict.Codes);
    }

    [Fact]
    public void CodesOutsideThePolicyAreReportedNotDropped()
    {
        var policy = SafetyPolicy.Default.Exclude("S6", "S7");

        var verdict = VerdictParser.Parse("\n\nunsafe\nS7,S1,S14<|eot_id|>", policy);

        Assert.Equal(VerdictKind.Unsafe, verdict.Kind);
        Assert.Equal(["S1"], verdict.Categories.Select(c => c.Code));
        Assert.Equal(["S7", "S14"], verdict.UnknownCodes);
        Assert.Equal(["S7", "S1", "S14"], verdict.Codes);

        var onlyUnknown = VerdictParser.Parse("unsafe\nS6", policy);
        Assert.Equal(VerdictKind.Unsafe, onlyUnknown.Kind);
        Assert.Empty(onlyUnknown.Categories);
        Assert.Equal(["S6"], onlyUnknown.UnknownCodes);
    }

    [Fact]
    public void CustomPoliciesResolveTheirOwnCodes()
    {
        var policy = SafetyPolicy.FromJson("""{"categories": [{"code": "C1", "name": "Spam"}, {"code": "S1", "name": "Scams"}]}""");

        var verdict = VerdictParser.Parse("unsafe\nc1,S1", policy);

        Assert.Equal(["Spam", "Scams"], verdict.Categories.Select(c => c.Name));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n\n ")]
    [InlineData("<|eot_id|>")]
    [InlineData("unsafe")]
    [InlineData("unsafe<|eot_id|>")]
    [InlineData("unsafe\n")]
    [InlineData("unsafe\n,")]
    [InlineData("unsafe\nviolence!")]
    [InlineData("unsafe\n , ,\t")]
    [InlineData("unsafe\nS1,violence!")]
    [InlineData("unsafe\n\nS1")]
    [InlineData("unsafe\nS1\nS2")]
    [InlineData("safe\nS1")]
    [InlineData("safe.")]
    [InlineData("safe unsafe")]
    [InlineData("The content is safe.")]
    [InlineData("safe<|eot_id|>trailing")]
    [InlineData("safe<|eot_id|><|eot_id|>")]
    [InlineData("<|eot_id|>safe")]
    [InlineData("unsafe\nS1<|eot_id|>\nS2")]
    [InlineData("unsafe\n\u0053\u0661")]
    public void MalformedAnswersAreUnparseableAndKeepTheRawText(string text)
    {
        var verdict = VerdictParser.Parse(text, SafetyPolicy.Default);

        Assert.Equal(VerdictKind.Unparseable, verdict.Kind);
        Assert.Equal(text, verdict.RawText);
        Assert.Empty(verdict.Categories);
        Assert.Empty(verdict.UnknownCodes);
        Assert.False(string.IsNullOrEmpty(verdict.Problem));
    }

    [Fact]
    public void NullArgumentsThrow()
    {
        Assert.Throws<ArgumentNullException>(() => VerdictParser.Parse(null!, SafetyPolicy.Default));
        Assert.Throws<ArgumentNullException>(() => VerdictParser.Parse("safe", null!));
    }

    [Fact]
    public void RandomTextNeverThrowsAndAlwaysGivesAConsistentVerdict()
    {
        var fragments = Gen.OneOfConst("safe", "unsafe", "Safe", "\n", "\n\n", "\r\n", ",", ", ", " ", "\t", "S", "S1", "S13", "S14", "s2",
            "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "x", "\u001C", "\u3000", "<|", ":");
        var structured = fragments.Array[0, 10].Select(string.Concat);
        var anything = Gen.String;

        foreach (var gen in new[] { structured, anything })
        {
            gen.Sample(text =>
            {
                var verdict = VerdictParser.Parse(text, SafetyPolicy.Default);
                Assert.Equal(text, verdict.RawText);
                switch (verdict.Kind)
                {
                    case VerdictKind.Safe:
                        Assert.Empty(verdict.Categories);
                        Assert.Empty(verdict.UnknownCodes);
                        break;
                    case VerdictKind.Unsafe:
                        Assert.NotEmpty(verdict.Codes);
                        Assert.Equal(verdict.Codes.Count, verdict.Categories.Count + verdict.UnknownCodes.Count);
                        Assert.Equal(verdict.Codes.Count, verdict.Codes.Distinct(StringComparer.OrdinalIgnoreCase).Count());
                        Assert.All(verdict.UnknownCodes, c => Assert.False(SafetyPolicy.Default.Contains(c)));
                        break;
                    case VerdictKind.Unparseable:
                        Assert.Empty(verdict.Categories);
                        Assert.NotNull(verdict.Problem);
                        break;
                    default:
                        Assert.Fail($"unexpected kind {verdict.Kind}");
                        break;
                }
            }, iter: 3000);
        }
    }

    [Fact]
    public void WellFormedAnswersRoundTrip()
    {
        var codes = SafetyPolicy.Default.Categories.Select(c => c.Code).ToArray();
        var gen = Gen.Select(
            Gen.Int[0, codes.Length - 1].Array[1, 6],
            Gen.OneOfConst("", "\n\n", " \n"),
            Gen.OneOfConst(",", ", ", " ,"),
            Gen.OneOfConst("", "<|eot_id|>", "\n", "<|eot_id|>\n", " <|eom_id|>"));

        gen.Sample((picked, prefix, separator, suffix) =>
        {
            var expected = picked.Select(i => codes[i]).Distinct().ToArray();
            string text = prefix + "unsafe\n" + string.Join(separator, picked.Select(i => codes[i])) + suffix;

            var verdict = VerdictParser.Parse(text, SafetyPolicy.Default);

            Assert.Equal(VerdictKind.Unsafe, verdict.Kind);
            Assert.Equal(expected, verdict.Categories.Select(c => c.Code));
        }, iter: 1000);
    }
}
