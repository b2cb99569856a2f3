using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Float islands in the artifact: a float layer (kind Float.OP) reads and writes f32 tensors (VALUE@f32); where a
/// quantized layer reads a float value a Quantize layer converts it on the value's calibrated (or sampled) grid, and
/// where a float layer reads a quantized value a Dequantize layer converts it back.
/// </summary>
internal sealed partial class ArtifactBuilder
{
    private IReadOnlyDictionary<string, string> _aliases = new Dictionary<string, string>();

    /// <summary>True when <paramref name="value"/> exists only as float (a float layer's output, a float edge layer's).</summary>
    private bool IsFloatOnly(string value) => !_grids.ContainsKey(value);

    /// <summary>The f32 tensor holding <paramref name="value"/>, adding a Dequantize layer when it is quantized only.</summary>
    private string FloatTensor(string value)
    {
        if (ImportedRoundTrip(value) is { } rounded) return rounded; // ArtifactBuilder.Import.cs
        if (_tensorNames.Contains(value + FloatSuffix)) return value + FloatSuffix;
        if (_tensorNames.Contains(value) && IsFloatOnly(value)) return value;
        return Dequantized(value);
    }

    /// <summary>Makes sure a quantized layer can read <paramref name="value"/>: a float-only value is quantized on its grid.</summary>
    private void EnsureQuantized(string value)
    {
        if (!IsFloatOnly(value)) return;
        var source = _tensorNames.Contains(value + FloatSuffix) ? value + FloatSuffix : FloatTensor(value);
        if (source == value)
            throw new ModelException(ErrorCodes.NotQuantizable, $"'{value}' is computed in float at the output edge, and a quantized layer reads it: not supported yet.");
        if (!_ranges.ContainsKey(value) && _fixed is null)
            throw new ModelException(ErrorCodes.InternalError, $"No range for the float island output '{value}'.");
        var grid = GridFor(value);
        AddTensor(grid.ToTensor(value, Shape(value)));
        AddLayer(LayerKinds.Quantize, "quantize_" + value, [source], [value], [], [], [], "float island output");
    }

    /// <summary>A reshape of a float-only value stays float: f32 in, f32 out.</summary>
    private void BuildFloatReshape(FloatLayer layer, string comment)
    {
        var output = layer.Output + FloatSuffix;
        AddTensor(new ArtifactTensor(output, ArtifactElementType.F32, new(Shape(layer.Output)), 1f, 0, 0, 0));
        AddLayer(LayerKinds.Reshape, layer.Name, [FloatTensor(layer.Inputs[0])], [output], [], [], [], comment + " (float)");
    }

    /// <summary>
    /// A float layer: the node's attributes, opset and constant inputs recorded (docs/artifact.md, "Float layers"), then
    /// checked against the float kernels (QG0023 when none computes it).
    /// </summary>
    private void BuildFloat(FloatLayer layer, string comment)
    {
        var node = layer.FloatNode!;
        var output = layer.Output + FloatSuffix;
        AddTensor(new ArtifactTensor(output, ArtifactElementType.F32, new(Shape(layer.Output)), 1f, 0, 0, 0));
        var built = FloatLayerOf(node, layer.Opset, _graph.Initializers, name => FloatTensor(_aliases.TryGetValue(name, out var target) ? target : name), output, comment + " (float)");
        _layers.Add(built);
        try
        {
            var tensors = _tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
            FloatLayers.Describe(built, n => tensors[n]);
        }
        catch (ArtifactFormatException e)
        {
            throw new ModelException(ErrorCodes.NoFloatKernel, e.Message, nodeName: node.Name);
        }
    }

    /// <summary>
    /// The Float.OP layer of <paramref name="node"/>: constant inputs (from <paramref name="constants"/>) as blobs, the
    /// others as the f32 tensors <paramref name="tensorOf"/> names, attributes and opset as ints/floats (docs/artifact.md).
    /// </summary>
    internal static ArtifactLayer FloatLayerOf(Node node, int opset, IReadOnlyDictionary<string, Tensor> constants, Func<string, string> tensorOf, string output, string comment)
    {
        var inputs = new List<string>();
        var sources = new int[node.Inputs.Count];
        var blobs = new List<ArtifactBlob>();
        for (int i = 0; i < node.Inputs.Count; i++)
        {
            var name = node.Inputs[i];
            if (name.Length == 0) { sources[i] = -1; continue; }
            if (constants.TryGetValue(name, out var constant))
            {
                blobs.Add(ConstantBlob("c" + i.ToString(System.Globalization.CultureInfo.InvariantCulture), constant, node));
                sources[i] = -2;
                continue;
            }
            var tensor = tensorOf(name);
            int index = inputs.IndexOf(tensor);
            if (index < 0) { index = inputs.Count; inputs.Add(tensor); }
            sources[i] = index;
        }
        var ints = new List<ArtifactInts> { Ints(FloatLayers.OpsetKey, opset), Ints(FloatLayers.InputsKey, sources) };
        var floats = new List<ArtifactFloats>();
        foreach (var (key, attribute) in node.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
            switch (attribute.Kind)
            {
                case AttributeKind.Int: ints.Add(Ints("i." + key, ClampToInt(attribute.Int))); break;
                case AttributeKind.Ints: ints.Add(Ints("is." + key, attribute.Ints.Select(ClampToInt).ToArray())); break;
                case AttributeKind.Float: floats.Add(new ArtifactFloats("f." + key, new([attribute.Float]))); break;
                case AttributeKind.Floats: floats.Add(new ArtifactFloats("fs." + key, new(attribute.Floats))); break;
                case AttributeKind.String: ints.Add(Ints(FloatLayers.EncodeString(key), FloatLayers.Utf8(attribute.String))); break;
                default:
                    throw new ModelException(ErrorCodes.NoFloatKernel, $"{node.OpType} has attribute '{key}' of kind {attribute.Kind}, which a float layer cannot carry.", nodeName: node.Name);
            }
        return new ArtifactLayer(FloatLayers.Kind(node.OpType), node.Name, new(inputs.ToArray()), new([output]), new(ints.ToArray()), new(floats.ToArray()), new(blobs.ToArray()), comment);
    }

    private static ArtifactBlob ConstantBlob(string key, Tensor constant, Node node) => constant.DataType switch
    {
        DataType.Float or DataType.Double =>
            new ArtifactBlob(key, BlobType.F32, new(constant.Shape), EquatableArray<int>.Empty, new(constant.ToFloatArray())),
        DataType.Int64 or DataType.Int32 or DataType.Int8 or DataType.UInt8 or DataType.Bool =>
            new ArtifactBlob(key, BlobType.I32, new(constant.Shape), new(constant.ToInt64Array().Select(ClampToInt).ToArray()), EquatableArray<float>.Empty),
        _ => throw new ModelException(ErrorCodes.NoFloatKernel, $"{node.OpType} reads a constant of type {DataTypes.Name(constant.DataType)}, which a float layer cannot carry.", nodeName: node.Name),
    };

    /// <summary>Int64 attributes and constants (Slice's INT64_MAX ends) on the int32 range, where they mean the same.</summary>
    private static int ClampToInt(long value) => (int)Math.Clamp(value, int.MinValue, int.MaxValue);
}
