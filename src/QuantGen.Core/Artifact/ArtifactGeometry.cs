using System;
using System.Collections.Generic;
using System.Linq;

namespace QuantGen.Core.Artifact;

/// <summary>
/// Re-validates what an artifact says before anything is emitted or executed from it: the artifact in obj/ is
/// untrusted input (docs/security.md), so the generator and the simulator never rely on the quantizer having
/// checked it. Every layer's tensors exist and agree in size with its kind (docs/artifact.md); every window
/// geometry (Conv, FactorizedConv, MaxPool, AveragePool) is recomputed in 64-bit against the ONNX definition:
/// kernel, strides and dilations ≥ 1, pads ≥ 0, the window extent (k − 1)·d + 1 within the padded input, the
/// recorded output size the one the definition gives (floor or ceil mode), and every position a window reads inside
/// 32-bit range, so that the generated kernels' int index arithmetic cannot wrap.
/// </summary>
public static partial class ArtifactGeometry
{
    /// <summary>Null when the artifact is consistent, else a message naming the first bad layer (the generator's QG1040).</summary>
    public static string? Check(QuantizedArtifact artifact)
    {
        var tensors = new Dictionary<string, ArtifactTensor>(StringComparer.Ordinal);
        foreach (var t in artifact.Tensors)
        {
            if (ElementCount(t.Shape) < 0) return $"tensor '{t.Name}' has {Shape(t.Shape)}, more than 2^31 elements";
            if (!(t.Scale > 0 && t.Scale <= float.MaxValue) || t.QMin > t.QMax)
                return $"tensor '{t.Name}' has scale {t.Scale} and grid [{t.QMin}, {t.QMax}]: the scale must be finite and positive";
            tensors[t.Name] = t;
        }
        foreach (var io in artifact.Inputs)
            if (!tensors.ContainsKey(io.Tensor)) return $"input '{io.Name}' names no tensor ('{io.Tensor}')";
        foreach (var io in artifact.Outputs)
            if (!tensors.ContainsKey(io.Tensor)) return $"output '{io.Name}' names no tensor ('{io.Tensor}')";
        foreach (var layer in artifact.Layers)
        {
            string? problem;
            try
            {
                problem = CheckLayer(layer, tensors);
            }
            catch (ArtifactFormatException e)
            {
                problem = e.Message;
            }
            if (problem is not null) return $"layer '{layer.Name}' ({layer.Kind}): {problem}";
        }
        return null;
    }

    private static string? CheckLayer(ArtifactLayer layer, Dictionary<string, ArtifactTensor> tensors)
    {
        if (layer.Inputs.Count == 0 || layer.Outputs.Count != 1) return "needs inputs and exactly one output";
        var ins = new ArtifactTensor[layer.Inputs.Count];
        for (int i = 0; i < ins.Length; i++)
            if (!tensors.TryGetValue(layer.Inputs[i], out ins[i]!)) return $"reads '{layer.Inputs[i]}', which is no tensor";
        if (!tensors.TryGetValue(layer.Outputs[0], out var y)) return $"writes '{layer.Outputs[0]}', which is no tensor";
        var x = ins[0];
        switch (layer.Kind)
        {
            case LayerKinds.FactorizedConv:
                return CheckWindow(layer, x, y) ?? CheckFactors(layer, (long)x.Shape[1] * layer.GetInts("kernel")[0] * layer.GetInts("kernel")[1], y.Shape[1]);
            case LayerKinds.FactorizedFullyConnected:
            {
                if (x.Shape.Count < 1 || y.Shape.Count < 1) return "input and output need a last dimension";
                long k = x.Shape[x.Shape.Count - 1], m = y.Shape[y.Shape.Count - 1];
                if (k < 1 || m < 1 || ElementCount(x.Shape) / k != ElementCount(y.Shape) / m) return $"input {Shape(x.Shape)} and output {Shape(y.Shape)} do not have the same rows";
                return CheckFactors(layer, k, m);
            }
            case LayerKinds.Conv:
                return WeightedTypes(layer, x, y) ?? CheckWindow(layer, x, y);
            case LayerKinds.MaxPool:
            case LayerKinds.AveragePool:
                return CheckWindow(layer, x, y);
            case LayerKinds.FullyConnected:
            {
                if (WeightedTypes(layer, x, y) is { } types) return types;
                if (x.Shape.Count < 1 || y.Shape.Count < 1) return "input and output need a last dimension";
                long k = x.Shape[x.Shape.Count - 1], m = y.Shape[y.Shape.Count - 1];
                if (k < 1 || m < 1 || ElementCount(x.Shape) / k != ElementCount(y.Shape) / m) return $"input {Shape(x.Shape)} and output {Shape(y.Shape)} do not have the same rows";
                var w = layer.GetBlob("weights");
                if (w.Values.Count != m * k) return $"weights {Shape(w.Shape)} hold {w.Values.Count} values, [{m},{k}] needs {m * k}";
                return PerChannel(layer, m);
            }
            case LayerKinds.Add:
                if (ins.Length != 2 || ElementCount(ins[1].Shape) != ElementCount(x.Shape) || ElementCount(y.Shape) != ElementCount(x.Shape))
                    return "needs two inputs of the output's size";
                return null;
            case LayerKinds.Lookup:
            case LayerKinds.Affine:
            case LayerKinds.Mul:
            case LayerKinds.Concat:
                return CheckElementwise(layer, ins, y); // ArtifactGeometry.Elementwise.cs
            case LayerKinds.Remap:
                return CheckRemap(layer, ins, y); // ArtifactGeometry.Remap.cs
            case LayerKinds.Resize:
                return CheckResize(layer, ins, y); // ArtifactGeometry.Resize.cs
            case LayerKinds.MatMul:
                return CheckMatMul(layer, ins, y); // ArtifactGeometry.MatMul.cs
            case LayerKinds.Softmax:
            {
                int axis = layer.GetInt("axis");
                if (axis < 0 || axis >= x.Shape.Count) return $"axis {axis} is outside rank {x.Shape.Count}";
                return SameSize(x, y);
            }
            case var kind when FloatLayers.IsFloat(kind):
                return FloatLayers.Check(layer, ins, y);
            default:
                // Quantize, Dequantize, Reshape, Sigmoid.
                return SameSize(x, y);
        }
    }

    /// <summary>
    /// A Conv/FullyConnected reads u8 or i16 and writes the same type, or (u8 in only) f32 with its two float
    /// <c>bounds</c> (docs/artifact.md, "Float outputs"): the kernels exist for these combinations only.
    /// </summary>
    private static string? WeightedTypes(ArtifactLayer layer, ArtifactTensor x, ArtifactTensor y)
    {
        if (x.ElementType is not (ArtifactElementType.U8 or ArtifactElementType.I16)) return $"reads {Type(x)} '{x.Name}': needs u8 or i16";
        if (y.ElementType == ArtifactElementType.F32)
        {
            if (x.ElementType != ArtifactElementType.U8) return $"writes f32 from {Type(x)}: float outputs read u8";
            if (layer.Floats.FirstOrDefault(f => f.Key == "bounds") is not { Values.Count: 2 } bounds) return "writes f32 without two float 'bounds'";
            if (!(bounds.Values[0] <= bounds.Values[1])) return $"float bounds {bounds.Values[0]} > {bounds.Values[1]}";
            return null;
        }
        return y.ElementType == x.ElementType ? null : $"reads {Type(x)} and writes {Type(y)}";
    }

    private static string Type(ArtifactTensor t) => t.ElementType.ToString().ToLowerInvariant();

    private static string? CheckWindow(ArtifactLayer layer, ArtifactTensor x, ArtifactTensor y)
    {
        if (x.Shape.Count != 4 || y.Shape.Count != 4) return $"input {Shape(x.Shape)} and output {Shape(y.Shape)} must be NCHW";
        if (x.Shape[0] != y.Shape[0] || x.Shape[0] < 1) return "input and output batch differ";
        int[] kernel = layer.GetInts("kernel"), strides = layer.GetInts("strides"), pads = layer.GetInts("pads");
        int[] dilations = layer.HasInts("dilations") ? layer.GetInts("dilations") : new[] { 1, 1 };
        if (kernel.Length != 2 || strides.Length != 2 || dilations.Length != 2 || pads.Length != 4) return "kernel, strides, dilations need 2 values and pads 4";
        bool pool = layer.Kind is LayerKinds.MaxPool or LayerKinds.AveragePool;
        for (int d = 0; d < 2; d++)
        {
            long size = x.Shape[2 + d], output = y.Shape[2 + d], k = kernel[d], s = strides[d], dil = dilations[d], before = pads[d], after = pads[d + 2];
            if (k < 1 || s < 1 || dil < 1 || before < 0 || after < 0 || size < 1 || output < 1)
                return $"kernel {k}, stride {s}, dilation {dil}, pads {before}+{after}, input {size} and output {output} must be positive (pads non-negative)";
            long span = (k - 1) * dil + 1, padded = size + before + after;
            if (span > padded) return $"the window extent {span} is larger than the padded input {padded} on axis {d}";
            long floor = (padded - span) / s + 1, ceil = (padded - span + s - 1) / s + 1;
            if (output != floor && !(pool && output == ceil))
                return $"output size {output} on axis {d} is not the {floor} the geometry gives";
            if ((output - 1) * s + span + s > int.MaxValue || padded > int.MaxValue)
                return $"the windows on axis {d} reach position {(output - 1) * s + span}, outside 32-bit indexing";
        }
        long c = x.Shape[1], m = y.Shape[1];
        if (pool) return m == c ? null : $"pooling maps {c} channels to {m}";
        if (layer.Kind == LayerKinds.FactorizedConv) return PerChannel(layer, m);
        int group = layer.GetInt("group");
        if (group < 1 || c % group != 0 || m % group != 0) return $"group {group} does not divide {c} input and {m} output channels";
        // The element count is what the kernels index by (hand-written artifacts also store the weights as [M, K]).
        var w = layer.GetBlob("weights");
        if (w.Values.Count != m * (c / group) * kernel[0] * kernel[1])
            return $"weights {Shape(w.Shape)} hold {w.Values.Count} values, [{m},{c / group},{kernel[0]},{kernel[1]}] needs {m * (c / group) * kernel[0] * kernel[1]}";
        return PerChannel(layer, m);
    }

    /// <summary>The per-output-channel blobs hold one value per channel.</summary>
    private static string? PerChannel(ArtifactLayer layer, long m)
    {
        foreach (var key in new[] { "bias", "multiplier", "shift", "clampHigh", "negMultiplier", "negShift" })
            if (layer.HasBlob(key) && layer.GetBlob(key).Values.Count != m) return $"'{key}' has {layer.GetBlob(key).Values.Count} values for {m} channels";
        return null;
    }

    private static string? SameSize(ArtifactTensor x, ArtifactTensor y) =>
        ElementCount(x.Shape) == ElementCount(y.Shape) ? null : $"input {Shape(x.Shape)} and output {Shape(y.Shape)} differ in size";

    /// <summary>Elements of a shape, or −1 past int.MaxValue (never wraps).</summary>
    public static long ElementCount(EquatableArray<int> shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) return -1;
            n *= d;
            if (n > int.MaxValue) return -1;
        }
        return n;
    }

    private static string Shape(EquatableArray<int> shape) => "[" + string.Join(",", shape.AsArray()) + "]";
}
