using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// ONNX Runtime's com.microsoft QOperator nodes (docs/ContribOperators.md) as the QDQ groups they stand for:
/// DequantizeLinear of every quantized input, the float op, QuantizeLinear onto the node's output grid. The layers they
/// become (Add, Mul, AveragePool, Concat, FullyConnected, Lookup) then run on exactly those scales and zero points.
/// </summary>
internal static partial class QdqImport
{
    private sealed partial class Importer
    {
        /// <summary>
        /// Input orders (ONNX Runtime's contrib schemas): QLinearAdd/QLinearMul A, A_scale, A_zero_point, B, B_scale,
        /// B_zero_point, C_scale, C_zero_point; QLinearGlobalAveragePool, QLinearAveragePool, QLinearSigmoid,
        /// QLinearLeakyRelu X, X_scale, X_zero_point, Y_scale, Y_zero_point; QLinearConcat Y_scale, Y_zero_point, then
        /// (X, X_scale, X_zero_point) per input; QGemm A, a_scale, a_zero_point, B, b_scale, b_zero_point, C (int32 on
        /// a_scale · b_scale), y_scale, y_zero_point. Zero points may be empty (uint8 0).
        /// </summary>
        private List<Node> ExpandContribOperator(Node node)
        {
            var ns = node.Name;
            var nodes = new List<Node>();
            string y = ns + "/y_float";
            switch (node.OpType)
            {
                case "QLinearAdd":
                case "QLinearMul":
                {
                    RequireContribInputs(node, 7, 0, 1, 3, 4, 6);
                    string a = ns + "/a_dq", b = ns + "/b_dq";
                    nodes.Add(Dq(ns + "/a_dequantize", node.Inputs[0], node.Inputs[1], Optional(node, 2), a, null));
                    nodes.Add(Dq(ns + "/b_dequantize", node.Inputs[3], node.Inputs[4], Optional(node, 5), b, null));
                    nodes.Add(new Node(ns, node.OpType == "QLinearAdd" ? "Add" : "Mul", [a, b], [y]));
                    nodes.Add(Q(ns, y, node.Inputs[6], Optional(node, 7), node.Outputs));
                    break;
                }
                case "QLinearGlobalAveragePool":
                case "QLinearAveragePool":
                case "QLinearSigmoid":
                case "QLinearLeakyRelu":
                {
                    RequireContribInputs(node, 4, 0, 1, 3);
                    if (node.GetInt("channels_last", 0) != 0)
                        throw Error(ErrorCodes.QOperatorNotImported, $"com.microsoft.{node.OpType} '{node.Name}' has channels_last=1: QuantGen imports NCHW pooling only.", node.Name);
                    string x = ns + "/x_dq";
                    nodes.Add(Dq(ns + "/x_dequantize", node.Inputs[0], node.Inputs[1], Optional(node, 2), x, null));
                    string op = node.OpType["QLinear".Length..];
                    var attributes = node.Attributes.Where(a => a.Key != "channels_last").ToDictionary(a => a.Key, a => a.Value);
                    nodes.Add(new Node(ns, op, [x], [y], attributes));
                    nodes.Add(Q(ns, y, node.Inputs[3], Optional(node, 4), node.Outputs));
                    break;
                }
                case "QLinearConcat":
                {
                    if (node.Outputs.Count != 1 || node.Inputs.Count < 5 || (node.Inputs.Count - 2) % 3 != 0 || !node.HasInput(0)
                        || Enumerable.Range(0, (node.Inputs.Count - 2) / 3).Any(j => !node.HasInput(2 + 3 * j) || !node.HasInput(3 + 3 * j)))
                        throw Error(ErrorCodes.BadQdqParameters, $"QLinearConcat '{node.Name}' has {node.Inputs.Count} inputs; it needs Y_scale, Y_zero_point, then a tensor, its scale and zero point per input.", node.Name);
                    var parts = new List<string>();
                    for (int j = 0; 2 + 3 * j < node.Inputs.Count; j++)
                    {
                        string x = $"{ns}/x{j}_dq";
                        nodes.Add(Dq($"{ns}/x{j}_dequantize", node.Inputs[2 + 3 * j], node.Inputs[3 + 3 * j], Optional(node, 4 + 3 * j), x, null));
                        parts.Add(x);
                    }
                    nodes.Add(new Node(ns, "Concat", parts, [y], node.Attributes));
                    nodes.Add(Q(ns, y, node.Inputs[0], Optional(node, 1), node.Outputs));
                    break;
                }
                default: // QGemm
                {
                    RequireContribInputs(node, 6, 0, 1, 3, 4);
                    if (!node.HasInput(7))
                        throw Error(ErrorCodes.QOperatorNotImported, $"com.microsoft.QGemm '{node.Name}' has no y_scale: its output is float, which QuantGen's integer layers do not produce.", node.Name);
                    if (node.GetFloat("alpha", 1f) != 1f)
                        throw Error(ErrorCodes.QdqNotExpressible, $"com.microsoft.QGemm '{node.Name}' has alpha {node.GetFloat("alpha", 1f)}: the weights would leave the grid of b_scale; fold alpha into the scales.", node.Name);
                    bool transB = node.GetInt("transB", 0) != 0;
                    string a = ns + "/a_dq", b = ns + "/b_dq";
                    nodes.Add(Dq(ns + "/a_dequantize", node.Inputs[0], node.Inputs[1], Optional(node, 2), a, null));
                    // Per-column scales: B is [K, N] (axis 1) or, transposed, [N, K] (axis 0).
                    nodes.Add(Dq(ns + "/b_dequantize", node.Inputs[3], node.Inputs[4], Optional(node, 5), b, transB ? 0 : 1));
                    var gemmInputs = new List<string> { a, b };
                    if (node.HasInput(6))
                    {
                        var biasScale = ns + "/bias_scale";
                        _graph.Initializers[biasScale] = Tensor.FromArray([ScaleVector(node, 4).Length], BiasScales(node));
                        nodes.Add(Dq(ns + "/bias_dequantize", node.Inputs[6], biasScale, "", ns + "/bias_dq", 0));
                        gemmInputs.Add(ns + "/bias_dq");
                    }
                    nodes.Add(new Node(ns, "Gemm", gemmInputs, [y], node.Attributes));
                    nodes.Add(Q(ns, y, node.Inputs[7], Optional(node, 8), node.Outputs));
                    break;
                }
            }
            return nodes;
        }

        private static Node Q(string ns, string y, string scale, string zero, IReadOnlyList<string> outputs) =>
            new(ns + "/y_quantize", "QuantizeLinear", [y, scale, zero], outputs.ToArray());

        private static string Optional(Node node, int input) => node.HasInput(input) ? node.Inputs[input] : "";

        private void RequireContribInputs(Node node, int count, params int[] required)
        {
            if (node.Outputs.Count != 1 || node.Inputs.Count < count || required.Any(i => !node.HasInput(i)))
                throw Error(ErrorCodes.BadQdqParameters, $"{node.OpType} '{node.Name}' has {node.Inputs.Count} inputs; it needs {count} or more (zero points may be empty).", node.Name);
        }
    }
}
