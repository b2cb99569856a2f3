namespace QuantGen.Core.Quantization;

/// <summary>
/// How each ONNX operator runs in a generated class: the table the README prints (between its
/// <c>operators:begin</c>/<c>operators:end</c> markers, checked by a test) and <see cref="LayerGraphBuilder"/> follows
/// (a test checks that the operators it handles are exactly these). Anything not listed is a QG0017 build error.
/// </summary>
public static class QuantizedOperators
{
    /// <summary>One row: the operators, how they run, and the conditions under which they do.</summary>
    public sealed record Row(string[] OpTypes, string RunsAs, string Conditions);

    public static IReadOnlyList<Row> All { get; } =
    [
        new(["Conv"], "integer kernel (int8 or 2-7-bit weights, u8 or i16 activations)", "2-D (4-D weights, constant), and 1-D as 2-D with H = 1; grouped and depthwise included; read only by float layers, it writes float (no u8 rounding)"),
        new(["ConvTranspose"], "zero-inserting index map, then an integer Conv with flipped weights", "2-D, constant weights; pads, output_padding, output_shape and auto_pad"),
        new(["Gemm", "MatMul"], "integer kernel (fully connected)", "constant weights; a following Add of a constant vector becomes the bias; read only by float layers, it writes float"),
        new(["MaxPool", "AveragePool", "GlobalAveragePool"], "integer kernel", "2-D (NCHW) inputs; AveragePool not with both ceil_mode and count_include_pad"),
        new(["Add", "Sub"], "integer kernel", "two computed tensors (u8 with numpy broadcasting: an operand of another shape is expanded by an index map first; i16 the same shape only), or a tensor and a constant (one value or one per channel)"),
        new(["Mul", "Div"], "integer kernel", "by a constant (one value or one per channel; Div only by a constant); Mul of two computed tensors with numpy broadcasting (one broadcast over trailing dimensions, squeeze-excitation's [N,C,1,1], read in place; any other expanded by an index map first)"),
        new(["Concat"], "integer kernel (inputs requantized to the output's grid)", "computed inputs, any axis"),
        new(["Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "LeakyRelu"], "256-entry lookup table (u8 → u8)", "x·Sigmoid(x), x·HardSigmoid(x), x·Clip(x+3, 0, 6)/6 and Clip(x+3, 0, 6)/6 become one table; a Sigmoid at a graph output stays float"),
        new(["BatchNormalization"], "folded into the preceding layer's weights", "after a Conv"),
        new(["Relu", "Clip", "LeakyRelu", "Max", "Min"], "fused into the preceding layer's requantization", "sole consumer of a Conv, Gemm, MatMul, Add, Mul or constant op; Clip/Max/Min with constant bounds; LeakyRelu alpha ≥ 0 after a weighted layer; otherwise Relu, Clip and LeakyRelu are a table"),
        new(["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose"], "no work (the elements keep their order), or one index map (Remap)", "a Transpose that reorders data, and Slice, Pad, nearest Resize, Gather and Expand with constant parameters, are a Remap on u8 (in float when only float layers read them); a linear Resize over the last two axes is an integer bilinear kernel on u8"),
        new(["ReduceMean"], "float: a written-out LayerNorm is one LayerNormalization float layer", "other ReduceMeans run as float islands"),
        new(["Identity", "Dropout"], "removed", ""),
        new(["Softmax", "Sigmoid"], "float, after the last dequantization", "at the model's outputs; Softmax over the last axis"),
    ];

    /// <summary>The README's table, as Markdown.</summary>
    public static string MarkdownTable()
    {
        var lines = new List<string> { "| ONNX operators | run as | when |", "|---|---|---|" };
        lines.AddRange(All.Select(r => $"| {string.Join(", ", r.OpTypes)} | {r.RunsAs} | {r.Conditions} |"));
        lines.Add("| anything else | float island: dequantized, computed by a float kernel, quantized again (warning QG0022 lists every such node and its share of the MACs; `FloatFallback=\"false\"` makes it an error) | the op has a float kernel (docs/artifact.md, \"Float layers\"); otherwise QG0023 naming the node, or QG0003 for an op the reference executor lacks |");
        return string.Join("\n", lines) + "\n";
    }
}
