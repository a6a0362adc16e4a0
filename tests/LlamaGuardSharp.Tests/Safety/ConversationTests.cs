using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Tests.Safety;

public class ConversationTests
{
    private static readonly ConversationImage Picture = ConversationImage.FromBytes(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, "p.png");

    [Fact]
    public void TaskFollowsTheLastTurn()
    {
        Assert.Equal(ClassificationTask.PromptClassification, Conversation.ForPrompt("q").Task);
        Assert.Equal(ClassificationTask.ResponseClassification, Conversation.ForResponse("q", "a").Task);
        var three = Conversation.Create().User("q").Agent("a").User("q2").Build();
        Assert.Equal(ClassificationTask.PromptClassification, three.Task);
        Assert.Equal(Role.User, three.LastRole);
        Assert.Equal([Role.User, Role.Agent, Role.User], three.Turns.Select(t => t.Role));
    }

    [Fact]
    public void BuilderIsImmutable()
    {
        var start = Conversation.Create().User("q");
        var prompt = start.Build();
        var response = start.Agent("a").Build();

        Assert.Single(prompt.Turns);
        Assert.Equal(2, response.Turns.Count);
        Assert.Equal(1, start.Count);
    }

    [Fact]
    public void EmptyConversationIsAnError()
    {
        Assert.Equal(ConversationProblem.Empty, Assert.Throws<ConversationException>(() => Conversation.Create().Build()).Problem);
        Assert.Equal(ConversationProblem.Empty, Assert.Throws<ConversationException>(() => Conversation.FromTurns([])).Problem);
    }

    [Fact]
    public void RolesMustAlternateStartingWithUser()
    {
        Assert.Equal(ConversationProblem.RolesDoNotAlternate,
            Assert.Throws<ConversationException>(() => Conversation.Create().Agent("a")).Problem);
        Assert.Equal(ConversationProblem.RolesDoNotAlternate,
            Assert.Throws<ConversationException>(() => Conversation.Create().User("a").User("b")).Problem);
        Assert.Equal(ConversationProblem.RolesDoNotAlternate,
            Assert.Throws<ConversationException>(() => Conversation.Create().User("a").Agent("b").Agent("c")).Problem);
        Assert.Equal(ConversationProblem.RolesDoNotAlternate,
            Assert.Throws<ConversationException>(() => Conversation.FromTurns([new ConversationTurn(Role.User, "a"), new ConversationTurn(Role.User, "b")])).Problem);
    }

    [Fact]
    public void SecondImageIsAnError()
    {
        var other = ConversationImage.FromBytes(new byte[] { 1 });
        var e = Assert.Throws<ConversationException>(() => Conversation.Create().User("a", Picture).Agent("b").User("c", other));
        Assert.Equal(ConversationProblem.TooManyImages, e.Problem);
        Assert.Contains("Turn 3", e.Message);

        Assert.Equal(ConversationProblem.TooManyImages, Assert.Throws<ConversationException>(() => Conversation.FromTurns(
            [new ConversationTurn(Role.User, "a", Picture), new ConversationTurn(Role.Agent, "b"), new ConversationTurn(Role.User, "c", Picture)])).Problem);
    }

    [Fact]
    public void ImageOnAgentTurnIsAnError()
    {
        Assert.Equal(ConversationProblem.ImageOnAgentTurn,
            Assert.Throws<ConversationException>(() => new ConversationTurn(Role.Agent, "a", Picture)).Problem);
    }

    [Fact]
    public void ImageOnlyUserTurnIsValidButBlankTurnsAreNot()
    {
        var conversation = Conversation.ForPrompt("  ", Picture);
        Assert.True(conversation.HasImage);
        Assert.Same(Picture, conversation.Image);
        Assert.False(conversation.Turns[0].HasText);

        Assert.Equal(ConversationProblem.EmptyTurn, Assert.Throws<ConversationException>(() => Conversation.ForPrompt(" \n")).Problem);
        Assert.Equal(ConversationProblem.EmptyTurn, Assert.Throws<ConversationException>(() => Conversation.ForResponse("q", "\u001F")).Problem);
        Assert.Throws<ArgumentNullException>(() => Conversation.ForPrompt(null!));
    }

    [Fact]
    public void ImageCanBeOnAnyUserTurn()
    {
        var conversation = Conversation.Create().User("a").Agent("b").User("c", Picture).Build();
        Assert.Same(Picture, conversation.Image);
        Assert.True(conversation.Turns[2].HasImage);
        Assert.False(Conversation.ForPrompt("x").HasImage);
    }

    [Fact]
    public void ImageBytesAreCopiedAndMustNotBeEmpty()
    {
        var buffer = new byte[] { 1, 2, 3 };
        var image = ConversationImage.FromBytes(buffer, "x");
        buffer[0] = 9;
        Assert.Equal(new byte[] { 1, 2, 3 }, image.EncodedBytes.ToArray());
        Assert.False(image.IsPlaceholder);
        Assert.True(ConversationImage.Placeholder().IsPlaceholder);

        Assert.Equal(ConversationProblem.EmptyImage,
            Assert.Throws<ConversationException>(() => ConversationImage.FromBytes(ReadOnlyMemory<byte>.Empty)).Problem);
    }

    [Fact]
    public async Task FromFileAsyncReadsBytesAndRejectsEmptyFiles()
    {
        string path = Path.Combine(Path.GetTempPath(), "prompting-image-" + Guid.NewGuid().ToString("N"));
        try
        {
            await File.WriteAllBytesAsync(path, [7, 8, 9]);
            var image = await ConversationImage.FromFileAsync(path);
            Assert.Equal(new byte[] { 7, 8, 9 }, image.EncodedBytes.ToArray());
            Assert.Equal(path, image.SourceName);

            await File.WriteAllBytesAsync(path, []);
            var e = await Assert.ThrowsAsync<ConversationException>(() => ConversationImage.FromFileAsync(path));
            Assert.Equal(ConversationProblem.EmptyImage, e.Problem);
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);
        }

        await Assert.ThrowsAsync<FileNotFoundException>(() => ConversationImage.FromFileAsync(path));
    }
}
