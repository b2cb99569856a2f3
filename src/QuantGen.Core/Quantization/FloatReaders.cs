using QuantGen.Core.Artifact;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Which values of a layer list only float computation reads: every reader is a float layer (island or float tail),
/// or a Reshape whose output is again read in float only, and the value is not a graph output (the model's outputs
/// keep their grid). A quantized value read so would be rounded to 8 bits just before being dequantized again: the
/// layer graph moves such data in float (LayerGraphBuilder.Float.cs) and the artifact gives such Conv/FullyConnected
/// layers a float output (ArtifactBuilder.FloatOutputs.cs).
/// </summary>
internal sealed class FloatReaders
{
    private readonly Dictionary<string, List<FloatLayer>> _readers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs;
    private readonly Dictionary<string, bool> _known = new(StringComparer.Ordinal);

    public FloatReaders(IReadOnlyList<FloatLayer> layers, IEnumerable<string> graphOutputs)
    {
        _graphOutputs = new HashSet<string>(graphOutputs, StringComparer.Ordinal);
        foreach (var layer in layers)
            foreach (var input in layer.Inputs.Concat(layer.NodeInputs).Distinct(StringComparer.Ordinal))
            {
                if (!_readers.TryGetValue(input, out var list)) _readers[input] = list = new List<FloatLayer>();
                list.Add(layer);
            }
    }

    /// <summary>True when <paramref name="value"/> has readers and all of them compute in float (see the class).</summary>
    public bool OnlyFloatRead(string value)
    {
        if (_known.TryGetValue(value, out var known)) return known;
        _known[value] = false; // a cycle (none in a topologically sorted graph) reads as "not only float"
        bool only = !_graphOutputs.Contains(value) && _readers.TryGetValue(value, out var list) && list.All(reader =>
            reader.IsFloatOp || reader.IsFloatTail || (reader.Kind == LayerKinds.Reshape && OnlyFloatRead(reader.Output)));
        return _known[value] = only;
    }
}
