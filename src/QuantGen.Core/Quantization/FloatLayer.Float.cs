using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>A float layer (float island): one ONNX node computed in float32 by the reference operators.</summary>
internal sealed partial class FloatLayer
{
    /// <summary>The node of a float layer (kind Float.OP), null for every quantized kind.</summary>
    public Node? FloatNode { get; init; }

    /// <summary>Why the node has no quantized layer (the quantizer's QG0017 message), for the QG0022 warning.</summary>
    public string? FloatReason { get; init; }

    /// <summary>The node's inputs with Identity/Dropout aliases resolved ("" omitted; constants by their initializer name).</summary>
    public string[] NodeInputs { get; init; } = [];

    /// <summary>The model's default-domain opset (the reference operators switch behaviour on it).</summary>
    public int Opset { get; set; } = 13;

    /// <summary>True for a float layer of a float island (kind Float.OP).</summary>
    public bool IsFloatOp => FloatNode is not null;
}
