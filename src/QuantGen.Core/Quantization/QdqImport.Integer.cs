using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// ConvInteger / MatMulInteger in their static form: x → QuantizeLinear(sx, zx) → ConvInteger(x_q, w, zx, zw) →
/// Cast(float) → Mul(c) is, by ONNX's definitions, Conv(DQ(x_q; sx, zx), DQ(w; c / sx, zw)) up to the float rounding of
/// the product: the Cast → Mul becomes the weights' scale (per tensor, or per output channel when c is), the float32
/// sw whose float32 sx · sw is c exactly where one exists. The group then imports as any DQ → Conv/MatMul.
/// DynamicQuantizeLinear (a per-run activation scale) has no fixed grid: QdqImport.Dynamic.cs calibrates it instead.
/// </summary>
internal static partial class QdqImport
{
    private sealed partial class Importer
    {
        private List<Node> ExpandInteger(Node node, HashSet<Node> skip)
        {
            bool conv = node.OpType == "ConvInteger";
            if (node.Inputs.Count < 2 || !node.HasInput(0) || !node.HasInput(1) || node.Outputs.Count != 1)
                throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}' has {node.Inputs.Count} inputs; it needs x, w (and zero points).", node.Name);
            Index();
            if (!_producer.TryGetValue(node.Inputs[0], out var q) || q.OpType != "QuantizeLinear")
                throw Error(ErrorCodes.QOperatorNotImported,
                    $"{node.OpType} '{node.Name}' reads '{node.Inputs[0]}', which {(_producer.TryGetValue(node.Inputs[0], out var p) ? $"{p.OpType} '{p.Name}' computes" : "is not quantized by a QuantizeLinear")}: QuantGen imports ConvInteger/MatMulInteger after a QuantizeLinear with a fixed scale only (DynamicQuantizeLinear computes the activation scale per run, which a compiled grid cannot). Quantize the model statically (ONNX Runtime: quantize_static).",
                    node.Name);
            if (!_constants.ContainsKey(node.Inputs[1]))
                throw Error(ErrorCodes.QdqNotImportable, $"{node.OpType} '{node.Name}': its weights '{node.Inputs[1]}' are computed, not a constant.", node.Name);
            var cast = Sole(node.Outputs[0]);
            var mul = cast is { OpType: "Cast" } && cast.GetInt("to", 0) == (long)DataType.Float ? Sole(cast.Outputs[0]) : null;
            string? scaleName = mul is { OpType: "Mul" } && mul.Inputs.Count == 2 ? mul.Inputs.FirstOrDefault(i => i != cast!.Outputs[0] && _constants.ContainsKey(i)) : null;
            if (scaleName is null)
                throw Error(ErrorCodes.QdqNotImportable,
                    $"{node.OpType} '{node.Name}' is not followed by Cast(to float) → Mul by a constant scale: QuantGen imports the int32 result only as that scaled float (the form ONNX Runtime's quantizer writes).", node.Name);
            var sx = Constant(q, q.Inputs[1], "scale").ToFloatArray();
            var c = _constants[scaleName];
            var cValues = c.ToFloatArray();
            int channels = conv ? _constants[node.Inputs[1]].Shape[0] : _constants[node.Inputs[1]].Shape[^1];
            // A per-channel scale must lie along the output channels: [1, M, 1, 1] or [M, 1, 1] (Conv), [M] or [1, M] (MatMul).
            bool perChannel = cValues.Length > 1;
            // (numpy broadcasting aligns c with the output's last axes: a Conv's [M] would vary along the width, not the channels)
            if (sx.Length != 1 || (perChannel && (cValues.Length != channels || !AlongOutputChannels(c, channels, conv ? _constants[node.Inputs[1]].Rank : 0))))
                throw Error(ErrorCodes.QdqNotExpressible,
                    $"{node.OpType} '{node.Name}': the scale '{scaleName}' has shape {ShapeMath.Format(c.Shape)} for {channels} output channels (and x's scale {sx.Length} values): QuantGen's weights have one scale per tensor or per output channel.", node.Name);
            var weightScales = cValues.Select(v => WeightScaleFor(sx[0], v)).ToArray();
            string ns = node.Name, x = ns + "/x_dq", w = ns + "/w_dq", scale = ns + "/w_scale";
            _graph.Initializers[scale] = perChannel ? Tensor.FromArray([channels], weightScales) : Tensor.FromArray([], weightScales);
            // A per-tensor weight zero point with per-channel scales: one per channel, as DequantizeLinear needs.
            string zero = node.HasInput(3) ? node.Inputs[3] : "";
            if (perChannel && zero.Length > 0 && Constant(node, zero, "weight zero point") is { Length: 1 } z)
            {
                zero = ns + "/w_zero";
                _graph.Initializers[zero] = z.DataType == DataType.Int8
                    ? Tensor.FromArray([channels], Enumerable.Repeat(z.ToArray<sbyte>()[0], channels).ToArray())
                    : Tensor.FromArray([channels], Enumerable.Repeat(z.ToArray<byte>()[0], channels).ToArray());
            }
            skip.Add(cast!);
            skip.Add(mul!);
            var nodes = new List<Node>
            {
                Dq(ns + "/x_dequantize", node.Inputs[0], q.Inputs[1], node.HasInput(2) ? node.Inputs[2] : "", x, null),
                Dq(ns + "/w_dequantize", node.Inputs[1], scale, zero, w, perChannel ? (conv ? 0 : 1) : null),
                new(ns, conv ? "Conv" : "MatMul", [x, w], [mul!.Outputs[0]], conv ? node.Attributes : new Dictionary<string, NodeAttribute>()),
            };
            return nodes;
        }

        /// <summary>The float32 sw nearest c / sx for which float32(sx · sw) is c (a few ulps searched; c / sx when none is).</summary>
        private static float WeightScaleFor(float sx, float c)
        {
            float guess = c / sx;
            float candidate = guess;
            for (int k = 0; k < 8; k++)
            {
                if (sx * candidate == c) return candidate;
                candidate = sx * candidate < c ? MathF.BitIncrement(candidate) : MathF.BitDecrement(candidate);
            }
            return guess;
        }

        private Node? Sole(string value) =>
            !_graphOutputs.Contains(value) && _consumers.TryGetValue(value, out var list) && list.Count == 1 ? list[0] : null;
    }
}
