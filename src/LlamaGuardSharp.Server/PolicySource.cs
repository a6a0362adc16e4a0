using System.Text.Json;
using LlamaGuardSharp.Safety;

namespace LlamaGuardSharp.Server;

/// <summary>
/// The policy a classification uses: S1–S13 minus <see cref="LlamaGuardServiceOptions.ExcludedCategories"/>, unless the
/// request brings its own (native <c>policy</c>, llama-stack <c>params.excluded_categories</c>), which replaces it.
/// </summary>
internal sealed class PolicySource
{
    /// <exception cref="SafetyPolicyException">the configured exclusions name unknown codes or exclude everything.</exception>
    public PolicySource(LlamaGuardServiceOptions options)
    {
        Configured = SafetyPolicy.Default.Exclude(options.ExcludedCategories);
    }

    public SafetyPolicy Configured { get; }

    /// <summary>Default policy minus the request's exclusions (they replace the configured ones).</summary>
    public static SafetyPolicy Excluding(IReadOnlyList<string> codes, string param)
    {
        try
        {
            return SafetyPolicy.Default.Exclude(codes);
        }
        catch (SafetyPolicyException e)
        {
            throw ApiException.BadRequest(e.Message, param, "invalid_policy");
        }
    }

    /// <summary>The native API's <c>policy</c> object: <c>categories</c> (replaces S1–S13) and/or <c>exclude</c>.</summary>
    public SafetyPolicy FromNative(JsonElement root)
    {
        if (!root.TryGetProperty("policy", out var policy) || policy.ValueKind == JsonValueKind.Null)
        {
            return Configured;
        }
        if (policy.ValueKind != JsonValueKind.Object)
        {
            throw ApiException.BadRequest("'policy' must be an object {\"categories\"?: […], \"exclude\"?: […]}.", "policy", "invalid_type");
        }
        SafetyPolicy result = SafetyPolicy.Default;
        if (policy.TryGetProperty("categories", out var categories) && categories.ValueKind != JsonValueKind.Null)
        {
            if (categories.ValueKind != JsonValueKind.Array)
            {
                throw ApiException.BadRequest("'policy.categories' must be an array of {\"code\", \"name\", \"description\"?}.", "policy.categories", "invalid_type");
            }
            var list = new List<HazardCategory>();
            int i = 0;
            foreach (var category in categories.EnumerateArray())
            {
                string param = $"policy.categories[{i++}]";
                if (category.ValueKind != JsonValueKind.Object)
                {
                    throw ApiException.BadRequest($"'{param}' must be an object {{\"code\", \"name\", \"description\"?}}.", param, "invalid_type");
                }
                try
                {
                    list.Add(new HazardCategory(RequestBody.RequiredString(category, "code", param + ".code"),
                        RequestBody.RequiredString(category, "name", param + ".name"),
                        RequestBody.OptionalString(category, "description", param + ".description")));
                }
                catch (SafetyPolicyException e)
                {
                    throw ApiException.BadRequest(e.Message, param, "invalid_policy");
                }
            }
            try
            {
                result = SafetyPolicy.FromCategories(list);
            }
            catch (SafetyPolicyException e)
            {
                throw ApiException.BadRequest(e.Message, "policy.categories", "invalid_policy");
            }
        }
        var exclude = RequestBody.OptionalStrings(policy, "exclude", "policy.exclude");
        if (exclude is not null)
        {
            try
            {
                result = result.Exclude(exclude);
            }
            catch (SafetyPolicyException e)
            {
                throw ApiException.BadRequest(e.Message, "policy.exclude", "invalid_policy");
            }
        }
        return result;
    }
}
