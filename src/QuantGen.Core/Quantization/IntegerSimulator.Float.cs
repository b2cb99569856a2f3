using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Float layers (docs/artifact.md, "Float layers"): the node run by its reference operator, as the float model runs
/// it, or by the float kernel the generated class calls where that kernel computes its own function (FloatIslands.Kernels.cs).
/// </summary>
public sealed partial class IntegerSimulator
{
    private float[] RunFloat(ArtifactLayer layer, Dictionary<string, float[]> floats) =>
        FloatIslands.Execute(layer, name => (floats[name], _tensors[name].Shape.AsArray()), name => _tensors[name]);
}
