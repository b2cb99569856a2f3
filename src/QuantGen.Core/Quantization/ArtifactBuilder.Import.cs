using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>
/// QDQ import with float islands: a float layer's output that the model quantizes (QuantizeLinear → DequantizeLinear)
/// is rounded onto that grid before anything reads it, float readers and graph outputs included, as ONNX computes it.
/// </summary>
internal sealed partial class ArtifactBuilder
{
    private const string RoundTripSuffix = "@dq";

    /// <summary>True for a graph input the imported model does not quantize: it stays float (only float layers may read it).</summary>
    private bool IsUnquantizedImportInput(string input) => _fixed is { Exact: true } && !_fixed.Grids.ContainsKey(input);

    /// <summary>
    /// The f32 tensor holding a float island's output after the model's own Q → DQ pair (a Quantize onto the fixed grid,
    /// then a Dequantize), or null when <paramref name="value"/> is not such an output.
    /// </summary>
    private string? ImportedRoundTrip(string value)
    {
        var name = value + RoundTripSuffix;
        if (_tensorNames.Contains(name)) return name;
        // Only a float value the model rounds: a float layer's output or a graph input, not a quantized value's Dequantize.
        if (_fixed is not { Exact: true } || !_fixed.Grids.ContainsKey(value) || !_tensorNames.Contains(value + FloatSuffix)
            || _layers.Any(l => l.Kind == LayerKinds.Dequantize && l.Outputs[0] == value + FloatSuffix)) return null;
        EnsureQuantized(value);
        AddTensor(new ArtifactTensor(name, ArtifactElementType.F32, new(Shape(value)), 1f, 0, 0, 0));
        AddLayer(LayerKinds.Dequantize, "dequantize_" + value, [value], [name], [], [], [], "the QDQ model's DequantizeLinear after a float island");
        return name;
    }
}
