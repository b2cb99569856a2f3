using System.Globalization;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// A quantization fixed outside QuantGen (QDQ import, AIMET encodings): the activation grids by value name and the
/// weight scales by initializer name that the artifact must use as they are, with no range setting of its own.
/// </summary>
internal sealed class FixedQuantization
{
    /// <summary>Activation grids by graph value, with the node (or encodings entry) that set each, for messages.</summary>
    public Dictionary<string, (ActivationGrid Grid, string Source)> Grids { get; } = new(StringComparer.Ordinal);

    /// <summary>Weight quantizers by the float initializer the layer reads.</summary>
    public Dictionary<string, FixedWeights> Weights { get; } = new(StringComparer.Ordinal);

    /// <summary>int32 biases by the float initializer the layer reads (DequantizeLinear of an int32 constant).</summary>
    public Dictionary<string, FixedBias> Biases { get; } = new(StringComparer.Ordinal);

    /// <summary>True when the weights are the model's own integers (QDQ import): checked, not rounded.</summary>
    public bool Exact { get; init; }

    /// <summary>What the source is called in messages: "QDQ model" or "encodings file 'x'".</summary>
    public string Origin { get; init; } = "QDQ model";

    /// <summary>
    /// A dynamically quantized model (QdqImport.Dynamic.cs): the DynamicQuantizeLinear nodes whose activations are
    /// calibrated instead; null for a QDQ model or encodings. Its weights are fixed, its grids QuantGen's.
    /// </summary>
    public IReadOnlyList<DynamicActivation>? Dynamic { get; init; }
}

/// <summary>
/// Per-tensor (Axis −1) or per-axis weight scales; <see cref="Bits"/> is the signed grid's width (8 for int8/uint8
/// QDQ weights, the encodings' bitwidth), <see cref="Source"/> the DequantizeLinear node or encodings entry.
/// </summary>
internal sealed record FixedWeights(float[] Scales, int Axis, int Bits, string Source);

/// <summary>An int32 bias and its scale per element (DequantizeLinear of an int32 constant).</summary>
internal sealed record FixedBias(int[] Values, float[] Scales, string Source);

/// <summary>
/// QDQ import (issue 18): rewrites a model whose weights and activations carry QuantizeLinear/DequantizeLinear
/// pairs into the float model QuantGen quantizes, recording the pairs' parameters in a <see cref="FixedQuantization"/>:
/// a weight <c>DequantizeLinear</c> (of an int8/uint8 constant, or of a <c>QuantizeLinear</c> of a float constant:
/// PyTorch's fake-quant export) becomes the float initializer it computes plus the weight scales; an activation pair
/// <c>x → QuantizeLinear → DequantizeLinear</c> is removed (its consumers read x) and x gets the pair's grid. QOperator
/// nodes (QLinearConv, QLinearMatMul) are first expanded into the equivalent DQ → op → Q. Everything the artifact
/// cannot express exactly is a QG0080-QG0083 error naming the node (docs/interop.md, "QDQ import").
/// </summary>
internal static partial class QdqImport
{
    private static readonly HashSet<string> QOperators = new(StringComparer.Ordinal)
    {
        "QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger", "QLinearAdd", "QLinearMul", "QLinearGlobalAveragePool",
        "QLinearAveragePool", "QLinearConcat", "QGemm", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "QLinearReduceMean",
        "DynamicQuantizeLinear", "DynamicQuantizeMatMul", "QAttention", "QEmbedLayerNormalization",
    };

    /// <summary>True when the model holds any quantization operator (QDQ or QOperator), i.e. goes through this import.</summary>
    public static bool IsQuantized(Model model) =>
        model.Graph.Nodes.Any(n => n.OpType is "QuantizeLinear" or "DequantizeLinear" || QOperators.Contains(n.OpType));

    /// <summary>The float model and the quantization its Q/DQ nodes fix.</summary>
    public static (Model Model, FixedQuantization Fixed) Rewrite(Model model)
    {
        try
        {
            var importer = new Importer(model);
            return importer.Run();
        }
        catch (ModelException e)
        {
            throw e.WithContext(model.Path);
        }
    }

    /// <summary>The parameters of one Q or DQ node.</summary>
    /// <summary>
    /// <see cref="Type"/> is the IR storage type and <see cref="Bits"/> the ONNX type's width: 8 for int8/uint8, 4 for
    /// int4/uint4 (stored as int8/uint8), 16 for int16 and 32 for int32 (both stored as int32).
    /// </summary>
    private sealed record Parameters(float[] Scales, long[] ZeroPoints, int Axis, DataType Type, int Bits = 8)
    {
        public bool PerTensor => Axis < 0;

        public string TypeName => QdqImport.TypeName(Type, Bits);

        public bool SameAs(Parameters other) => Type == other.Type && Bits == other.Bits && Axis == other.Axis
            && Scales.AsSpan().SequenceEqual(other.Scales) && ZeroPoints.AsSpan().SequenceEqual(other.ZeroPoints);
    }

    private sealed partial class Importer
    {
        private readonly Model _model;
        private readonly Graph _graph;
        private readonly Dictionary<string, Tensor> _constants = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Node> _producer = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<Node>> _consumers = new(StringComparer.Ordinal);
        private readonly HashSet<string> _graphOutputs;
        private FixedQuantization _fixed = new() { Exact = true };

        public Importer(Model model)
        {
            _model = model;
            _graph = model.Graph.Clone();
            _graphOutputs = _graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        }

        public (Model, FixedQuantization) Run()
        {
            foreach (var node in _graph.Nodes.Where(n => n.OpType is "QuantizeLinear" or "DequantizeLinear"))
                if (node.Inputs.Count < 2 || node.Inputs[0].Length == 0 || node.Outputs.Count != 1 || node.Outputs[0].Length == 0)
                    throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}' has {node.Inputs.Count} inputs and {node.Outputs.Count} outputs; it needs x, a scale (and a zero point) and one output.", node.Name);
            if (IsDynamic(_model))
            {
                // ONNX Runtime's quantize_dynamic: fixed weights, activations calibrated (QdqImport.Dynamic.cs).
                var found = new List<DynamicActivation>();
                _fixed = new FixedQuantization { Exact = false, Origin = "dynamically quantized model", Dynamic = found };
                ExpandDynamic(found);
            }
            else ExpandQOperators();
            Index();
            var removed = new HashSet<Node>();
            var rename = new Dictionary<string, string>(StringComparer.Ordinal);
            var identities = new List<Node>();
            foreach (var dq in _graph.Nodes.Where(n => n.OpType == "DequantizeLinear").ToList())
            {
                var dqParams = ReadParameters(dq, _constants.TryGetValue(dq.Inputs[0], out var c) ? c : null);
                var x = dq.Inputs[0];
                var y = dq.Outputs[0];
                if (_constants.TryGetValue(x, out var stored))
                {
                    // A constant stored quantized: weights (int8/uint8) or a bias (int32).
                    RecordConstant(dq, stored, dqParams, y);
                    removed.Add(dq);
                    continue;
                }
                if (!_producer.TryGetValue(x, out var q) || q.OpType != "QuantizeLinear")
                    throw Error(ErrorCodes.QdqNotImportable, $"DequantizeLinear '{dq.Name}' reads '{x}', which is neither a constant nor a QuantizeLinear output: QuantGen imports Q → DQ pairs and DQ of stored weights.", dq.Name);
                var qParams = ReadParameters(q, null);
                if (!qParams.SameAs(dqParams))
                    throw Error(ErrorCodes.QdqNotExpressible, $"QuantizeLinear '{q.Name}' and DequantizeLinear '{dq.Name}' use different scales or zero points: the pair is a requantization QuantGen has no layer for.", dq.Name);
                var source = q.Inputs[0];
                if (_constants.TryGetValue(source, out var floats))
                {
                    // Fake-quantized float weights (PyTorch's export): QuantizeLinear of a float constant, then DequantizeLinear.
                    var quantized = QuantizeConstant(q, floats, qParams);
                    RecordConstant(dq, quantized, dqParams, y);
                }
                else
                {
                    RecordActivation(q, dq, qParams, source);
                    if (_graphOutputs.Contains(y)) identities.Add(new Node(dq.Name, "Identity", [source], [y]));
                    else rename[y] = source;
                }
                removed.Add(dq);
                if (_consumers[q.Outputs[0]].All(n => n.OpType == "DequantizeLinear")) removed.Add(q);
            }
            foreach (var q in _graph.Nodes.Where(n => n.OpType == "QuantizeLinear" && !removed.Contains(n)))
            {
                var reader = _consumers.TryGetValue(q.Outputs[0], out var list) ? list.FirstOrDefault(n => n.OpType != "DequantizeLinear") : null;
                throw Error(ErrorCodes.QdqNotImportable, reader is null
                    ? $"QuantizeLinear '{q.Name}' writes integers to the graph output '{q.Outputs[0]}': the generated class's outputs are float; end the model with a DequantizeLinear."
                    : $"QuantizeLinear '{q.Name}' feeds {reader.OpType} '{reader.Name}', not a DequantizeLinear: QuantGen imports Q → DQ pairs.", q.Name);
            }

            var nodes = new List<Node>();
            foreach (var node in _graph.Nodes)
            {
                if (removed.Contains(node)) continue;
                nodes.Add(rename.Count == 0 || !node.Inputs.Any(rename.ContainsKey) ? node
                    : new Node(node.Name, node.OpType, node.Inputs.Select(i => rename.TryGetValue(i, out var r) ? r : i).ToArray(), node.Outputs, node.Attributes, node.Domain));
            }
            nodes.AddRange(identities);
            _graph.Nodes.Clear();
            _graph.Nodes.AddRange(nodes);
            var rewritten = new Model(_graph, _model.Opset, _model.Path)
            {
                ProducerName = _model.ProducerName,
                ProducerVersion = _model.ProducerVersion,
                IrVersion = _model.IrVersion,
                Budget = _model.Budget,
            };
            // The rewrite leaves Identity nodes at the end and reads values produced later: restore the order.
            Passes.TopologicalSort.Run(_graph);
            return (rewritten, _fixed);
        }

        /// <summary>
        /// QLinearConv and QLinearMatMul as the QDQ group they stand for (ONNX defines them so):
        /// Q(Conv(DQ(x), DQ(w), DQ(bias on sx·sw)), sy, zy). Other QOperator nodes are refused (QG0083).
        /// </summary>
        private void ExpandQOperators()
        {
            if (!_graph.Nodes.Any(n => QOperators.Contains(n.OpType))) return;
            var nodes = new List<Node>();
            var skip = new HashSet<Node>(); // the Cast → Mul after a ConvInteger/MatMulInteger, folded into its weights' scale
            foreach (var node in _graph.Nodes)
            {
                if (skip.Contains(node)) continue;
                if (!QOperators.Contains(node.OpType)) { nodes.Add(node); continue; }
                var ns = node.Name;
                switch (node.OpType)
                {
                    case "QLinearConv" when node.Domain is "" or "ai.onnx":
                    {
                        RequireInputs(node, 8);
                        string x = ns + "/x_dq", w = ns + "/w_dq", y = ns + "/y_float";
                        nodes.Add(Dq(ns + "/x_dequantize", node.Inputs[0], node.Inputs[1], node.Inputs[2], x, null));
                        nodes.Add(Dq(ns + "/w_dequantize", node.Inputs[3], node.Inputs[4], node.Inputs[5], w, 0));
                        var convInputs = new List<string> { x, w };
                        if (node.HasInput(8))
                        {
                            // The bias is int32 on sx · sw[m] (zero point 0), ONNX's definition.
                            var biasScale = ns + "/bias_scale";
                            _graph.Initializers[biasScale] = Tensor.FromArray([ScaleVector(node, 4).Length], BiasScales(node));
                            nodes.Add(Dq(ns + "/bias_dequantize", node.Inputs[8], biasScale, "", ns + "/bias_dq", 0));
                            convInputs.Add(ns + "/bias_dq");
                        }
                        nodes.Add(new Node(ns, "Conv", convInputs, [y], node.Attributes));
                        nodes.Add(new Node(ns + "/y_quantize", "QuantizeLinear", [y, node.Inputs[6], node.Inputs[7]], node.Outputs));
                        break;
                    }
                    case "QLinearMatMul" when node.Domain is "" or "ai.onnx":
                    {
                        RequireInputs(node, 8);
                        string a = ns + "/a_dq", b = ns + "/b_dq", y = ns + "/y_float";
                        nodes.Add(Dq(ns + "/a_dequantize", node.Inputs[0], node.Inputs[1], node.Inputs[2], a, null));
                        nodes.Add(Dq(ns + "/b_dequantize", node.Inputs[3], node.Inputs[4], node.Inputs[5], b, 1));
                        nodes.Add(new Node(ns, "MatMul", [a, b], [y]));
                        nodes.Add(new Node(ns + "/y_quantize", "QuantizeLinear", [y, node.Inputs[6], node.Inputs[7]], node.Outputs));
                        break;
                    }
                    case "ConvInteger" or "MatMulInteger" when node.Domain is "" or "ai.onnx":
                        nodes.AddRange(ExpandInteger(node, skip)); // QdqImport.Integer.cs
                        break;
                    case "QLinearAdd" or "QLinearMul" or "QLinearGlobalAveragePool" or "QLinearAveragePool" or "QLinearConcat" or "QGemm" or "QLinearSigmoid" or "QLinearLeakyRelu"
                        when node.Domain == "com.microsoft":
                        nodes.AddRange(ExpandContribOperator(node)); // QdqImport.Contrib.cs
                        break;
                    default:
                        throw Error(ErrorCodes.QOperatorNotImported,
                            $"{(node.Domain.Length > 0 ? node.Domain + "." : "")}{node.OpType} '{node.Name}' is a QOperator-format node QuantGen does not import (it imports QLinearConv, QLinearMatMul, static ConvInteger/MatMulInteger, ONNX Runtime's QLinearAdd, QLinearMul, QLinearGlobalAveragePool, QLinearAveragePool, QLinearConcat, QGemm, QLinearSigmoid, QLinearLeakyRelu and QDQ models). " +
                            "Re-export the model in QDQ format (ONNX Runtime: quantize_static(..., quant_format=QuantFormat.QDQ)).", node.Name);
                }
            }
            _graph.Nodes.Clear();
            _graph.Nodes.AddRange(nodes);
        }

        private void RequireInputs(Node node, int count)
        {
            if (node.Outputs.Count != 1 || node.Inputs.Count < count || Enumerable.Range(0, count).Any(i => i != 2 && i != 5 && i != 7 && !node.HasInput(i)))
                throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}' has {node.Inputs.Count} inputs; it needs {count} (zero points may be empty).", node.Name);
        }

        private float[] ScaleVector(Node node, int input)
        {
            Index();
            return Constant(node, node.Inputs[input], "scale").ToFloatArray();
        }

        /// <summary>QLinearConv's bias scale sx · sw[m] in float32, per output channel.</summary>
        private float[] BiasScales(Node node)
        {
            var sx = ScaleVector(node, 1);
            var sw = ScaleVector(node, 4);
            if (sx.Length != 1)
                throw Error(ErrorCodes.BadQdqParameters, $"QLinearConv '{node.Name}': x_scale must be a scalar (has {sx.Length} values).", node.Name);
            return sw.Select(s => sx[0] * s).ToArray();
        }

        private static Node Dq(string name, string x, string scale, string zero, string output, int? axis)
        {
            var attributes = new Dictionary<string, NodeAttribute>();
            if (axis is { } a) attributes["axis"] = new NodeAttribute { Name = "axis", Kind = AttributeKind.Int, Int = a };
            return new Node(name, "DequantizeLinear", [x, scale, zero], [output], attributes);
        }

        private void Index()
        {
            _constants.Clear();
            _producer.Clear();
            _consumers.Clear();
            foreach (var (name, tensor) in _graph.Initializers) _constants[name] = tensor;
            foreach (var node in _graph.Nodes)
            {
                foreach (var output in node.Outputs.Where(o => o.Length > 0)) _producer[output] = node;
                foreach (var input in node.Inputs.Where(i => i.Length > 0).Distinct())
                {
                    if (!_consumers.TryGetValue(input, out var list)) _consumers[input] = list = new List<Node>();
                    list.Add(node);
                }
                if (node.OpType == "Constant" && node.Outputs.Count == 1 && node.HasAttribute("value") && node.GetTensor("value") is { } value) _constants[node.Outputs[0]] = value;
                // PyTorch shares one zero-point initializer through Identity nodes.
                if (node.OpType == "Identity" && node.Inputs.Count == 1 && node.Outputs.Count == 1 && _constants.TryGetValue(node.Inputs[0], out var same)) _constants[node.Outputs[0]] = same;
            }
        }

        private Tensor Constant(Node node, string value, string what)
        {
            if (_constants.TryGetValue(value, out var tensor)) return tensor;
            throw Error(ErrorCodes.QdqNotImportable, $"{node.OpType} '{node.Name}': its {what} '{value}' is computed, not a constant; QuantGen imports fixed scales and zero points only.", node.Name);
        }

        /// <summary>Scale, zero point, axis and quantized type of a Q or DQ node, checked (QG0080).</summary>
        private Parameters ReadParameters(Node node, Tensor? stored)
        {
            if (node.Inputs.Count < 2 || !node.HasInput(1))
                throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}' has no scale input.", node.Name);
            if (node.GetInt("block_size", 0) != 0)
                throw Error(ErrorCodes.QdqNotExpressible, $"{node.OpType} '{node.Name}' uses blocked quantization (block_size {node.GetInt("block_size", 0)}): QuantGen's weights have one scale per output channel.", node.Name);
            var scaleTensor = Constant(node, node.Inputs[1], "scale");
            if (scaleTensor.DataType != DataType.Float)
                throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}': the scale is {DataTypes.Name(scaleTensor.DataType)}; QuantGen imports float32 scales.", node.Name);
            var scales = scaleTensor.ToFloatArray();
            if (scaleTensor.Rank > 1 || scales.Length == 0)
                throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}': the scale has shape {ShapeMath.Format(scaleTensor.Shape)}; it must be a scalar or a 1-D per-axis vector.", node.Name);
            for (int i = 0; i < scales.Length; i++)
                if (!(scales[i] > 0) || float.IsInfinity(scales[i]))
                    throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}': scale{(scales.Length > 1 ? $"[{i}]" : "")} is {Format(scales[i])}; a scale must be positive and finite.", node.Name);

            DataType type;
            int bits;
            long[] zeros;
            if (node.HasInput(2))
            {
                var zeroTensor = Constant(node, node.Inputs[2], "zero point");
                (type, bits) = (zeroTensor.DataType, BitsOf(zeroTensor));
                if (!zeroTensor.Shape.AsSpan().SequenceEqual(scaleTensor.Shape) && !(zeroTensor.Length == 1 && scales.Length == 1))
                    throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}': the zero point has shape {ShapeMath.Format(zeroTensor.Shape)} and the scale {ShapeMath.Format(scaleTensor.Shape)}; they must match.", node.Name);
                if (type is not (DataType.UInt8 or DataType.Int8 or DataType.Int32))
                    throw Error(ErrorCodes.QdqNotExpressible, $"{node.OpType} '{node.Name}': zero point of type {DataTypes.Name(type)}; QuantGen imports int4, uint4, int8, uint8 and int16 quantization (and int32 biases).", node.Name);
                zeros = zeroTensor.ToInt64Array();
            }
            else if (stored is not null)
            {
                (type, bits) = (stored.DataType, BitsOf(stored));
                zeros = new long[scales.Length];
            }
            else
            {
                long dtype = node.GetInt("output_dtype", 0);
                (type, bits) = dtype switch
                {
                    0 or 2 => (DataType.UInt8, 8),
                    3 => (DataType.Int8, 8),
                    21 => (DataType.UInt8, 4),
                    22 => (DataType.Int8, 4),
                    5 => (DataType.Int32, 16),
                    _ => throw Error(ErrorCodes.QdqNotExpressible, $"{node.OpType} '{node.Name}' quantizes to ONNX type {dtype} ({TypeName((DataType)dtype, 0)}): QuantGen imports int4, uint4, int8, uint8 and int16 quantization only.", node.Name),
                };
                zeros = new long[scales.Length];
            }
            if (stored is not null && (stored.DataType != type || BitsOf(stored) != bits))
                throw Error(ErrorCodes.BadQdqParameters, $"DequantizeLinear '{node.Name}': the data is {TypeName(stored.DataType, BitsOf(stored))} and the zero point {TypeName(type, bits)}; ONNX requires one type.", node.Name);
            var (lo, hi) = Range(type, bits);
            for (int i = 0; i < zeros.Length; i++)
                if (zeros[i] < lo || zeros[i] > hi || (bits == 32 && zeros[i] != 0))
                    throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}': zero point{(zeros.Length > 1 ? $"[{i}]" : "")} {zeros[i]} is outside {TypeName(type, bits)}'s range [{lo}, {hi}]{(bits == 32 ? " (int32 zero points must be 0)" : "")}.", node.Name);

            int axis = -1;
            // One scale (a scalar or a 1-element vector, as ONNX Runtime reads it) is per-tensor.
            if (scales.Length > 1)
            {
                if (_model.Opset < 13)
                    throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}': per-axis scales need opset 13 (the model has {_model.Opset}).", node.Name);
                axis = (int)node.GetInt("axis", 1);
            }
            return new Parameters(scales, zeros, axis, type, bits);
        }

        /// <summary>ONNX QuantizeLinear of a float constant: saturate(round_half_even(x / scale) + zero), the division in float32.</summary>
        private Tensor QuantizeConstant(Node q, Tensor floats, Parameters p)
        {
            if (floats.DataType != DataType.Float)
                throw Error(ErrorCodes.QdqNotImportable, $"QuantizeLinear '{q.Name}' quantizes a {DataTypes.Name(floats.DataType)} constant; QuantGen imports float32.", q.Name);
            if (p.Bits > 8)
                throw Error(ErrorCodes.QdqNotExpressible, $"QuantizeLinear '{q.Name}' quantizes the constant '{q.Inputs[0]}' to {p.TypeName}: QuantGen stores weights in int8 (int4, uint4, int8 and uint8 weights import exactly).", q.Name);
            var values = floats.ToFloatArray();
            var (stride, count) = AxisLayout(q, floats.Shape, p);
            var (lo, hi) = Range(p.Type, p.Bits);
            var result = new long[values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                int c = p.PerTensor ? 0 : (i / stride) % count;
                float ratio = values[i] / p.Scales[c];
                double rounded = float.IsNaN(ratio) ? 0 : Math.Round(ratio, MidpointRounding.ToEven);
                result[i] = (long)Math.Clamp(rounded + p.ZeroPoints[c], lo, hi);
            }
            return p.Type == DataType.Int8
                ? Tensor.FromArray(floats.Shape, result.Select(v => (sbyte)v).ToArray())
                : Tensor.FromArray(floats.Shape, result.Select(v => (byte)v).ToArray());
        }

        /// <summary>For per-axis parameters, the element stride of the axis and its length (checked against the scale's).</summary>
        private (int Stride, int Count) AxisLayout(Node node, int[] shape, Parameters p)
        {
            if (p.PerTensor) return (1, 1);
            int axis = p.Axis < 0 ? p.Axis + shape.Length : p.Axis;
            if (axis < 0 || axis >= shape.Length)
                throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}': axis {p.Axis} is outside the data's rank {shape.Length}.", node.Name);
            if (shape[axis] != p.Scales.Length)
                throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}': {p.Scales.Length} per-axis scales for axis {axis} of length {shape[axis]} (data shape {ShapeMath.Format(shape)}); they must be equal.", node.Name);
            int stride = 1;
            for (int d = axis + 1; d < shape.Length; d++) stride *= shape[d];
            return (stride, shape[axis]);
        }

        /// <summary>A constant stored quantized (weights int8/uint8, bias int32) becomes the float initializer <paramref name="output"/>.</summary>
        private void RecordConstant(Node dq, Tensor stored, Parameters p, string output)
        {
            if (stored.DataType is not (DataType.UInt8 or DataType.Int8 or DataType.Int32) || p.Bits == 16)
                throw Error(ErrorCodes.QdqNotExpressible, $"DequantizeLinear '{dq.Name}' dequantizes {p.TypeName} data; QuantGen imports int4/uint4/int8/uint8 weights (stored as int8) and int32 biases.", dq.Name);
            var (stride, count) = AxisLayout(dq, stored.Shape, p);
            var ints = stored.ToInt64Array();
            var floats = new float[ints.Length];
            var shifted = new int[ints.Length];
            for (int i = 0; i < ints.Length; i++)
            {
                int c = p.PerTensor ? 0 : (i / stride) % count;
                shifted[i] = checked((int)(ints[i] - p.ZeroPoints[c]));
                floats[i] = (float)shifted[i] * p.Scales[c];
            }
            _graph.Initializers[output] = Tensor.FromArray(stored.Shape, floats);
            if (stored.DataType == DataType.Int32)
            {
                var scales = new float[ints.Length];
                for (int i = 0; i < ints.Length; i++) scales[i] = p.Scales[p.PerTensor ? 0 : (i / stride) % count];
                _fixed.Biases[output] = new FixedBias(shifted, scales, dq.Name);
                return;
            }
            int axis = p.PerTensor ? -1 : (p.Axis < 0 ? p.Axis + stored.Rank : p.Axis);
            _fixed.Weights[output] = new FixedWeights(p.Scales, axis, p.Bits == 4 && p.Type == DataType.Int8 ? 4 : 8, dq.Name);
            // Weights whose zero point is not 0 are stored as w − z, which must be an int8 (uint8 with zero 128 is).
            for (int i = 0; i < shifted.Length; i++)
                if (shifted[i] < -128 || shifted[i] > 127)
                    throw Error(ErrorCodes.QdqNotExpressible, $"DequantizeLinear '{dq.Name}': weight {i} is {ints[i]} with zero point {p.ZeroPoints[p.PerTensor ? 0 : (i / stride) % count]}, so w − z = {shifted[i]} is outside int8, the type QuantGen stores weights in (uint8 weights need a zero point within 128 of every value; 128 always works).", dq.Name);
        }

        /// <summary>An activation pair: <paramref name="value"/> gets the grid (u8 as it is; int8 shifted by 128, the same real values).</summary>
        private void RecordActivation(Node q, Node dq, Parameters p, string value)
        {
            if (!p.PerTensor)
                throw Error(ErrorCodes.QdqNotExpressible, $"QuantizeLinear '{q.Name}' quantizes the activation '{value}' per axis ({p.Scales.Length} scales): QuantGen's activations have one scale per tensor.", q.Name);
            var grid = ActivationGridOf(q, p, value); // QdqImport.Narrow.cs
            if (_fixed.Grids.TryGetValue(value, out var previous) && previous.Grid != grid)
                throw Error(ErrorCodes.QdqNotExpressible, $"'{value}' is quantized twice with different parameters (QuantizeLinear '{previous.Source}' and '{q.Name}'): one value has one grid in QuantGen.", q.Name);
            _fixed.Grids[value] = (grid, q.Name);
        }


        private static string Format(float value) => value.ToString("R", CultureInfo.InvariantCulture);

        private ModelException Error(string code, string message, string node) => new(code, message, _model.Path, node);
    }
}
