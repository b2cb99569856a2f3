using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>A DynamicQuantizeLinear of a dynamically quantized model: the activation it quantized per run and the integer nodes reading it.</summary>
internal sealed record DynamicActivation(string Node, string Value, string[] Readers);

/// <summary>
/// Dynamic quantization, as ONNX Runtime's <c>quantize_dynamic</c> writes it: x → DynamicQuantizeLinear → (x_q, sx, zx);
/// MatMulInteger/ConvInteger(x_q, w, zx, zw) → Cast(float) → Mul(·, Mul(sx, sw)) [→ Add of a float bias]. By ONNX's
/// definitions that is MatMul/Conv(DQ(x_q; sx, zx), DQ(w; sw, zw)) with sx, zx computed from x on every run. A compiled
/// model has one grid per tensor, so the import keeps what is fixed (the integer weights and their scales sw, used as
/// they are) and leaves x float: the rewritten model is a float model with fixed weights, whose activations QuantGen
/// calibrates (Calibration, or InputRange data-free) like any float model's; the build says so (QG0086). Anything else
/// around a DynamicQuantizeLinear, and static quantization mixed in, is refused naming the node (docs/interop.md).
/// </summary>
internal static partial class QdqImport
{
    /// <summary>True when the model was quantized dynamically (holds a DynamicQuantizeLinear).</summary>
    public static bool IsDynamic(Model model) => model.Graph.Nodes.Any(n => n.OpType == "DynamicQuantizeLinear" && n.Domain is "" or "ai.onnx");

    /// <summary>
    /// The QG0086 warning of a dynamically quantized model: each DynamicQuantizeLinear's per-run scale became the static
    /// grid the build chose (<paramref name="grids"/>, by value), from calibration data or the stated input ranges.
    /// </summary>
    public static ModelWarning DynamicWarning(FixedQuantization imported, IReadOnlyDictionary<string, ActivationGrid> grids, bool dataFree, string? modelPath)
    {
        var list = string.Join("; ", imported.Dynamic!.Select(d =>
            $"'{d.Node}' ('{d.Value}' → {string.Join(", ", d.Readers.Select(r => $"'{r}'"))}" +
            (grids.TryGetValue(d.Value, out var g) ? $": {FixedQuantizationPass.Describe(g)}" : "") + ")"));
        return new ModelWarning(ErrorCodes.DynamicQuantizationCalibrated,
            $"{imported.Dynamic!.Count} DynamicQuantizeLinear node{(imported.Dynamic.Count == 1 ? "" : "s")} computed activation scales on every run, which a compiled model cannot: " +
            $"QuantGen quantizes {(imported.Dynamic.Count == 1 ? "that activation" : "those activations")} on static grids from {(dataFree ? "the stated input ranges (data-free)" : "the calibration data")} instead: {list}. " +
            $"The model's {imported.Weights.Count} integer weight tensors and their scales are used as they are; the other activations are calibrated too (docs/interop.md, \"Dynamic quantization\").",
            modelPath);
    }

    private sealed partial class Importer
    {
        /// <summary>
        /// Rewrites every DynamicQuantizeLinear → MatMulInteger/ConvInteger → Cast → Mul(Mul(sx, sw)) group into a
        /// MatMul/Conv of x and DQ(w; sw, zw) (the DequantizeLinear is then read as any weight's), and records the
        /// activations in <paramref name="found"/>. Static quantization in the same model is refused (QG0083).
        /// </summary>
        private void ExpandDynamic(List<DynamicActivation> found)
        {
            Index();
            var first = _graph.Nodes.First(n => n.OpType == "DynamicQuantizeLinear");
            foreach (var node in _graph.Nodes)
                if ((node.OpType is "QuantizeLinear" or "DequantizeLinear" || QOperators.Contains(node.OpType)) && node.OpType is not ("DynamicQuantizeLinear" or "ConvInteger" or "MatMulInteger"))
                    throw Error(ErrorCodes.QOperatorNotImported,
                        $"{Op(node)} '{node.Name}' is static quantization in a model quantized dynamically (DynamicQuantizeLinear '{first.Name}'): QuantGen imports a dynamic model made only of DynamicQuantizeLinear → MatMulInteger/ConvInteger → Cast → Mul groups (ONNX Runtime's quantize_dynamic of Conv and MatMul). " +
                        "Quantize the float model statically instead (QuantGen with Calibration, or quantize_static).", node.Name);

            var replaced = new Dictionary<Node, List<Node>>();
            var removed = new HashSet<Node>();
            var products = new HashSet<Node>();
            foreach (var dynamic in _graph.Nodes.Where(n => n.OpType == "DynamicQuantizeLinear").ToList())
                found.Add(MatchDynamic(dynamic, replaced, removed, products));
            foreach (var node in _graph.Nodes.Where(n => n.OpType is "ConvInteger" or "MatMulInteger" && !replaced.ContainsKey(n)))
                throw Error(ErrorCodes.QOperatorNotImported,
                    $"{node.OpType} '{node.Name}' reads '{(node.Inputs.Count > 0 ? node.Inputs[0] : "")}', which no DynamicQuantizeLinear computes, in a model quantized dynamically: QuantGen imports ConvInteger/MatMulInteger there only as ONNX Runtime's quantize_dynamic writes them (after a DynamicQuantizeLinear).", node.Name);
            // The scale products Mul(sx, sw) are gone with the groups that read them; nothing else may read them.
            foreach (var node in products)
            {
                var reader = _consumers.TryGetValue(node.Outputs[0], out var readers) ? readers.FirstOrDefault(r => !removed.Contains(r)) : null;
                if (reader is not null || _graphOutputs.Contains(node.Outputs[0]))
                    throw Error(ErrorCodes.QOperatorNotImported,
                        $"Mul '{node.Name}' multiplies a DynamicQuantizeLinear's per-run scale, and {(reader is null ? "the graph outputs it" : $"{reader.OpType} '{reader.Name}' reads it")}: QuantGen imports that scale only as the scale of a MatMulInteger/ConvInteger result.", node.Name);
            }

            var nodes = new List<Node>();
            foreach (var node in _graph.Nodes)
            {
                if (replaced.TryGetValue(node, out var replacement)) nodes.AddRange(replacement);
                else if (!removed.Contains(node)) nodes.Add(node);
            }
            _graph.Nodes.Clear();
            _graph.Nodes.AddRange(nodes);
        }

        /// <summary>One DynamicQuantizeLinear and every integer group it feeds; anything else it feeds is QG0083 naming it.</summary>
        private DynamicActivation MatchDynamic(Node dynamic, Dictionary<Node, List<Node>> replaced, HashSet<Node> removed, HashSet<Node> products)
        {
            if (dynamic.Inputs.Count != 1 || !dynamic.HasInput(0) || dynamic.Outputs.Count != 3 || dynamic.Outputs.Any(o => o.Length == 0))
                throw Error(ErrorCodes.BadQdqParameters, $"DynamicQuantizeLinear '{dynamic.Name}' has {dynamic.Inputs.Count} inputs and {dynamic.Outputs.Count} outputs; it needs x and three outputs (y, y_scale, y_zero_point).", dynamic.Name);
            string x = dynamic.Inputs[0], xq = dynamic.Outputs[0], xs = dynamic.Outputs[1], xz = dynamic.Outputs[2];
            string Refuse(string what) =>
                $"DynamicQuantizeLinear '{dynamic.Name}' {what}: QuantGen imports dynamic quantization only as ONNX Runtime's quantize_dynamic writes it (DynamicQuantizeLinear → MatMulInteger/ConvInteger → Cast(float) → Mul by Mul(y_scale, weight scale)), calibrating the activation instead.";
            foreach (var output in dynamic.Outputs.Where(_graphOutputs.Contains))
                throw Error(ErrorCodes.QOperatorNotImported, Refuse($"writes the graph output '{output}'"), dynamic.Name);
            var integers = Readers(xq);
            if (integers.Count == 0)
                throw Error(ErrorCodes.QOperatorNotImported, Refuse("feeds no MatMulInteger or ConvInteger"), dynamic.Name);
            foreach (var reader in integers)
                if (reader.OpType is not ("ConvInteger" or "MatMulInteger") || reader.Domain is not ("" or "ai.onnx") || reader.Inputs[0] != xq || reader.Inputs.Skip(1).Contains(xq))
                    throw Error(ErrorCodes.QOperatorNotImported, Refuse($"feeds {Op(reader)} '{reader.Name}', not as the input of a MatMulInteger or ConvInteger"), dynamic.Name);
            foreach (var reader in Readers(xz))
                if (!integers.Contains(reader) || reader.Inputs.Count < 3 || reader.Inputs[2] != xz || reader.Inputs.Count(i => i == xz) != 1)
                    throw Error(ErrorCodes.QOperatorNotImported, Refuse($"gives its zero point to {Op(reader)} '{reader.Name}' other than as x_zero_point of an integer node it feeds"), dynamic.Name);
            foreach (var reader in Readers(xs))
                if (reader.OpType != "Mul" || reader.Inputs.Count != 2 || reader.Inputs.Count(i => i == xs) != 1 || !_constants.ContainsKey(reader.Inputs.First(i => i != xs)))
                    throw Error(ErrorCodes.QOperatorNotImported, Refuse($"gives its scale to {Op(reader)} '{reader.Name}', not to a Mul by a constant weight scale"), dynamic.Name);

            foreach (var op in integers)
            {
                bool conv = op.OpType == "ConvInteger";
                if (op.Outputs.Count != 1 || op.Inputs.Count < 3 || op.Inputs[2] != xz)
                    throw Error(ErrorCodes.QOperatorNotImported,
                        $"{op.OpType} '{op.Name}' reads '{xq}' from DynamicQuantizeLinear '{dynamic.Name}' without its zero point '{xz}' as x_zero_point: that is not the product ONNX Runtime's quantize_dynamic writes.", op.Name);
                if (!_constants.TryGetValue(op.Inputs[1], out var w) || w.DataType is not (DataType.Int8 or DataType.UInt8))
                    throw Error(ErrorCodes.QdqNotImportable, $"{op.OpType} '{op.Name}': its weights '{op.Inputs[1]}' are not an int8/uint8 constant.", op.Name);
                var cast = Sole(op.Outputs[0]);
                var mul = cast is { OpType: "Cast" } && cast.GetInt("to", 0) == (long)DataType.Float ? Sole(cast.Outputs[0]) : null;
                string? product = mul is { OpType: "Mul" } && mul.Inputs.Count == 2 && mul.Outputs.Count == 1 ? mul.Inputs.FirstOrDefault(i => i != cast!.Outputs[0]) : null;
                var scales = product is not null && _producer.TryGetValue(product, out var p) && p.OpType == "Mul" && p.Inputs.Contains(xs) ? p : null;
                if (scales is null)
                    throw Error(ErrorCodes.QdqNotImportable,
                        $"{op.OpType} '{op.Name}' is not followed by Cast(to float) → Mul by Mul('{xs}', weight scale): QuantGen imports a dynamically quantized product only in the form ONNX Runtime's quantize_dynamic writes.", op.Name);
                var sw = _constants[scales.Inputs.First(i => i != xs)];
                int channels = conv ? w.Shape[0] : w.Shape[^1];
                bool perChannel = sw.Length > 1;
                if (perChannel && (sw.Length != channels || !AlongOutputChannels(sw, channels, conv ? w.Rank : 0)))
                    throw Error(ErrorCodes.QdqNotExpressible,
                        $"{op.OpType} '{op.Name}': the weight scale '{scales.Inputs.First(i => i != xs)}' has shape {ShapeMath.Format(sw.Shape)} for {channels} output channels: QuantGen's weights have one scale per tensor or per output channel.", op.Name);

                string ns = op.Name.Length > 0 ? op.Name : op.Outputs[0], scale = ns + "/w_scale", weights = ns + "/w_dq";
                _graph.Initializers[scale] = perChannel ? Tensor.FromArray([channels], sw.ToFloatArray()) : Tensor.FromArray([], sw.ToFloatArray());
                string zero = PerChannelZero(op, ns, channels, perChannel);
                // ConvInteger.add_bias writes the Conv's bias as Add(·, Reshape(B, [1, -1, 1, 1])): folded back into the Conv
                // (the float model's Conv, and one requantization less than a separate Add layer).
                string result = mul!.Outputs[0];
                var inputs = new List<string> { x, weights };
                if (conv && Sole(result) is { OpType: "Add" } add && add.Inputs.Count == 2 && add.Outputs.Count == 1 && ChannelBias(add, result, channels, w.Rank, ns) is { } bias)
                {
                    inputs.Add(bias);
                    result = add.Outputs[0];
                    removed.Add(add);
                }
                replaced[op] =
                [
                    Dq(ns + "/w_dequantize", op.Inputs[1], scale, zero, weights, perChannel ? (conv ? 0 : 1) : null),
                    new(ns, conv ? "Conv" : "MatMul", inputs, [result], conv ? op.Attributes : new Dictionary<string, NodeAttribute>()),
                ];
                removed.Add(cast!);
                removed.Add(mul);
                removed.Add(scales);
                products.Add(scales);
            }
            removed.Add(dynamic);
            return new DynamicActivation(dynamic.Name, x, integers.Select(n => n.Name).ToArray());
        }

        /// <summary>
        /// The float bias [M] an Add after a dynamic Conv adds per output channel: Reshape(B [M], [1, -1, 1, 1]) (what
        /// ONNX Runtime writes) or a constant along the channels; null for any other Add (it stays a layer of its own).
        /// </summary>
        private string? ChannelBias(Node add, string value, int channels, int rank, string ns)
        {
            var other = add.Inputs[0] == value ? add.Inputs[1] : add.Inputs[0];
            if (other == value) return null;
            if (_constants.TryGetValue(other, out var constant))
            {
                if (constant.DataType != DataType.Float || !AlongOutputChannels(constant, channels, rank)) return null;
                _graph.Initializers[ns + "/bias"] = Tensor.FromArray([channels], constant.ToFloatArray());
                return ns + "/bias";
            }
            if (!_producer.TryGetValue(other, out var reshape) || reshape.OpType != "Reshape" || reshape.Inputs.Count != 2
                || !_constants.TryGetValue(reshape.Inputs[0], out var data) || !_constants.TryGetValue(reshape.Inputs[1], out var shape)
                || data.DataType != DataType.Float || data.Rank != 1 || data.Length != channels || shape.DataType != DataType.Int64) return null;
            var dims = shape.ToInt64Array();
            bool alongChannels = dims.Length == rank && dims[0] == 1 && (dims[1] == -1 || dims[1] == channels) && dims.Skip(2).All(d => d == 1);
            return alongChannels ? reshape.Inputs[0] : null;
        }

        /// <summary>The weight zero point input, one per channel when the scales are (DequantizeLinear needs both alike).</summary>
        private string PerChannelZero(Node op, string ns, int channels, bool perChannel)
        {
            string zero = op.HasInput(3) ? op.Inputs[3] : "";
            if (!perChannel || zero.Length == 0 || Constant(op, zero, "weight zero point") is not { Length: 1 } z) return zero;
            zero = ns + "/w_zero";
            _graph.Initializers[zero] = z.DataType == DataType.Int8
                ? Tensor.FromArray([channels], Enumerable.Repeat(z.ToArray<sbyte>()[0], channels).ToArray())
                : Tensor.FromArray([channels], Enumerable.Repeat(z.ToArray<byte>()[0], channels).ToArray());
            return zero;
        }

        private List<Node> Readers(string value) => _consumers.TryGetValue(value, out var list) ? list : [];

        private static string Op(Node node) => (node.Domain.Length > 0 && node.Domain != "ai.onnx" ? node.Domain + "." : "") + node.OpType;
    }

    /// <summary>
    /// True when a scale tensor, broadcast (numpy rules) onto the product's output, varies along the output channels only:
    /// a Conv output [N, M, spatial…] of rank <paramref name="convRank"/> needs [M, 1…] aligned to axis 1 ([1, M, 1, 1]);
    /// a MatMul output […, M] (<paramref name="convRank"/> 0) needs M last ([M] or [1, M]).
    /// </summary>
    internal static bool AlongOutputChannels(Tensor scale, int channels, int convRank)
    {
        int at = convRank > 0 ? scale.Rank - (convRank - 1) : scale.Rank - 1;
        if (at < 0) return false;
        for (int d = 0; d < scale.Rank; d++)
            if (scale.Shape[d] != (d == at ? channels : 1)) return false;
        return true;
    }
}
