using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Float outputs (docs/artifact.md, "Float outputs"): a Conv or FullyConnected whose every reader computes in float (a
/// float island's layer, a float tail, a reshape read only so) writes its accumulators dequantized to f32 instead of
/// u8. The u8 step would only add a rounding the float reader then works from: on the transformer test model, the patch
/// embedding's u8 output before the float position Add and LayerNorm cost more agreement than any other rounding.
/// </summary>
internal sealed partial class ArtifactBuilder
{
    private HashSet<string> _floatOutputs = new(StringComparer.Ordinal);

    /// <summary>
    /// The outputs of the 8-bit, unfactorized Conv/FullyConnected layers among <paramref name="layers"/> that only float
    /// layers read (<see cref="FloatReaders"/>). Not a graph output (that keeps its grid and Dequantize, as every model's last layer does), not a
    /// layer with per-channel clip bounds from equalization, and not with imported or fixed grids (the given
    /// quantization is kept as it is).
    /// </summary>
    private HashSet<string> FloatReadOutputs(IReadOnlyList<FloatLayer> layers, IEnumerable<string> graphOutputs)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        if (_fixed is not null || _options.ActivationBits > 8) return result;
        var readers = new FloatReaders(layers, graphOutputs);
        foreach (var layer in layers)
            if (layer.Kind is LayerKinds.Conv or LayerKinds.FullyConnected && !layer.IsFloatOp && layer.Factorization is null
                && layer.ChannelClampMax is null && readers.OnlyFloatRead(layer.Output))
                result.Add(layer.Output);
        return result;
    }

    /// <summary>
    /// A float output's fused activation bounds [low, high]: ±float.MaxValue where there is none (the kernels clamp to
    /// them, which leaves every finite value as it is), a zero bound as +0.
    /// </summary>
    private static ArtifactFloats FloatBounds(FloatLayer layer) =>
        new("bounds", new([Bound(layer.ClampMin), Bound(layer.ClampMax)]));

    private static float Bound(float value) => value == 0 ? 0f : Math.Clamp(value, -float.MaxValue, float.MaxValue);
}
