using LlamaGuardSharp.Compute;

namespace LlamaGuardSharp.Model;

/// <summary>
/// The linear map from vision features to the text model's width (docs/model.md): Y = V·Wᵀ + b, applied to every vision
/// token. Its output is the cross-attention memory. Stateless apart from its weights: thread-safe.
/// </summary>
internal sealed class MultiModalProjector
{
    private readonly WeightMatrix _weight;
    private readonly float[] _bias;
    private readonly ComputeContext _context;

    internal MultiModalProjector(WeightMatrix weight, float[] bias, ComputeContext context)
    {
        _weight = weight;
        _bias = bias;
        _context = context;
    }

    public int InputDim => _weight.Cols;

    public int OutputDim => _weight.Rows;

    /// <summary>Projects <paramref name="features"/> (rows of <see cref="InputDim"/>) to rows of <see cref="OutputDim"/>.</summary>
    public float[] Project(ReadOnlySpan<float> features)
    {
        // A length that is not a multiple of InputDim is rejected by the overload below before anything is computed.
        var result = new float[(long)(features.Length / InputDim) * OutputDim];
        Project(features, result);
        return result;
    }

    /// <summary>Projects <paramref name="features"/> into <paramref name="destination"/> (rows of <see cref="OutputDim"/>).</summary>
    internal void Project(ReadOnlySpan<float> features, Span<float> destination)
    {
        if (features.Length % InputDim != 0)
        {
            throw new ModelInputException($"Vision features hold {features.Length} values, not a multiple of {InputDim}.");
        }
        int rows = features.Length / InputDim;
        if (destination.Length != (long)rows * OutputDim)
        {
            throw new ArgumentException($"The destination holds {destination.Length} values, expected {rows}×{OutputDim}.", nameof(destination));
        }
        Gemm.MatMulTransposed(features, rows, _weight, _bias, destination, _context);
    }
}
