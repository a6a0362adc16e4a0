namespace LlamaGuardSharp.Server;

/// <summary>Runs the service on its own (<c>dotnet LlamaGuardSharp.Server.dll --LlamaGuard:Model DIR</c>); the usual way
/// is <c>llamaguard serve</c>. Also the entry point WebApplicationFactory starts in the tests.</summary>
public sealed class Program
{
    private Program()
    {
    }

    public static async Task<int> Main(string[] args)
    {
        try
        {
            return await LlamaGuardServer.RunAsync(LlamaGuardServer.Build(args), Console.Error);
        }
        catch (Exception e) when (e is ArgumentException or LlamaGuardSharp.Safety.SafetyPolicyException)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 1;
        }
    }
}
