namespace LlamaGuardSharp.Hub;

/// <summary>Repository paths (always <c>/</c>-separated) as local relative paths, refusing any that would leave the folder.</summary>
internal static class RepoPaths
{
    public static string ToLocal(string repoPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(repoPath);
        var parts = repoPath.Split('/');
        if (repoPath.StartsWith('/') || repoPath.Contains('\\') || parts.Any(p => p is "" or "." or ".."))
        {
            throw new ArgumentException($"The repository path '{repoPath}' is not a plain relative path.");
        }
        return Path.Combine(parts);
    }
}
