using System;
using System.Collections.Generic;
using System.Text;

namespace QuantGen.Core.Artifact;

// Float layers ("float islands", docs/artifact.md): ONNX nodes no quantized kernel covers, run in float32 between a
// Dequantize and a Quantize. Compiled into both QuantGen.Core and the netstandard2.0 generator: dependency-free C# 9.

/// <summary>
/// The <c>Float.OP</c> layer kinds: one ONNX node (op type OP) computed in float32. The layer keeps the node as the
/// model has it, so that the simulator can run it through the reference operators: its attributes (<c>i.NAME</c> an
/// int, <c>is.NAME</c> ints, <c>f.NAME</c> a float, <c>fs.NAME</c> floats, <c>s.NAME</c> a string as its UTF-8 bytes),
/// the model's <c>opset</c>, its constant inputs as blobs <c>cI</c> (I the ONNX input position; f32, or i32 for integer
/// constants clamped to the int32 range) and, in <c>inputs</c>, where each ONNX input comes from: −1 omitted, −2 the
/// blob <c>cI</c>, k ≥ 0 the layer's k-th <c>in</c> tensor. Every tensor a float layer reads or writes is f32.
/// <see cref="Describe"/> turns a layer into the float kernel calls the generated code makes (QuantGenFloatKernels).
/// </summary>
public static class FloatLayers
{
    public const string Prefix = "Float.";
    public const string InputsKey = "inputs";
    public const string OpsetKey = "opset";

    /// <summary>The op types with a float kernel (QuantGenFloatKernels), sorted; any other executor op is QG0023 at build time.</summary>
    public static readonly string[] KernelOps =
    {
        "Abs", "Add", "BatchNormalization", "Cast", "Clip", "Concat", "Conv", "ConvTranspose", "Div", "Exp", "Gemm", "GlobalAveragePool", "GlobalMaxPool",
        "HardSigmoid", "HardSwish", "LayerNormalization", "LeakyRelu", "Log", "MatMul", "Max", "Min", "Mul", "Neg", "Pad", "Pow", "ReduceMax", "ReduceMean", "Relu", "Resize",
        "Sigmoid", "Slice", "Softmax", "Sqrt", "Sub", "Tanh", "Transpose",
    };

    public static string Kind(string opType) => Prefix + opType;

    public static bool IsFloat(string kind) => kind.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>The op type of a float layer kind, or null.</summary>
    public static string? OpOf(string kind) => IsFloat(kind) ? kind.Substring(Prefix.Length) : null;

    public static string EncodeString(string key) => "s." + key;

    public static int[] Utf8(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var ints = new int[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) ints[i] = bytes[i];
        return ints;
    }

    public static string? GetString(ArtifactLayer layer, string name)
    {
        if (!layer.HasInts("s." + name)) return null;
        var ints = layer.GetInts("s." + name);
        var bytes = new byte[ints.Length];
        for (int i = 0; i < ints.Length; i++)
        {
            if (ints[i] < 0 || ints[i] > 255) throw new ArtifactFormatException($"Layer '{layer.Name}': attribute '{name}' is not UTF-8 bytes.");
            bytes[i] = (byte)ints[i];
        }
        return Encoding.UTF8.GetString(bytes);
    }

    public static int GetInt(ArtifactLayer layer, string name, int fallback) => layer.HasInts("i." + name) ? layer.GetInt("i." + name) : fallback;

    public static int[]? GetInts(ArtifactLayer layer, string name) => layer.HasInts("is." + name) ? layer.GetInts("is." + name) : null;

    public static float GetFloat(ArtifactLayer layer, string name, float fallback)
    {
        foreach (var f in layer.Floats)
            if (f.Key == "f." + name && f.Values.Count == 1) return f.Values[0];
        return fallback;
    }

    public static bool HasAttribute(ArtifactLayer layer, string name)
    {
        foreach (var a in layer.Ints)
            if (a.Key == "i." + name || a.Key == "is." + name || a.Key == "s." + name) return true;
        foreach (var a in layer.Floats)
            if (a.Key == "f." + name || a.Key == "fs." + name) return true;
        return false;
    }

    /// <summary>Where ONNX input <paramref name="index"/> comes from: −1 omitted, −2 constant blob, k ≥ 0 the k-th in tensor.</summary>
    public static int Source(ArtifactLayer layer, int index)
    {
        var sources = layer.GetInts(InputsKey);
        if (index >= sources.Length) return -1;
        int s = sources[index];
        if (s < -2 || s >= layer.Inputs.Count) throw new ArtifactFormatException($"Layer '{layer.Name}': input {index} has source {s}.");
        return s;
    }

    public static int InputCount(ArtifactLayer layer) => layer.GetInts(InputsKey).Length;

    /// <summary>The shape of ONNX input <paramref name="index"/> (a tensor's or a constant blob's).</summary>
    public static int[] ShapeOf(ArtifactLayer layer, int index, Func<string, ArtifactTensor> tensor)
    {
        int s = Source(layer, index);
        if (s == -1) throw new ArtifactFormatException($"Layer '{layer.Name}': input {index} is required.");
        return s == -2 ? ConstantBlob(layer, index).Shape.AsArray() : tensor(layer.Inputs[s]).Shape.AsArray();
    }

    /// <summary>The blob of constant input <paramref name="index"/>.</summary>
    public static ArtifactBlob ConstantBlob(ArtifactLayer layer, int index) => layer.GetBlob("c" + index.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>A constant input's values as integers (an i32 blob), or null when the input is not a constant.</summary>
    public static int[]? ConstantInts(ArtifactLayer layer, int index)
    {
        if (Source(layer, index) != -2) return null;
        var blob = ConstantBlob(layer, index);
        if (blob.Type == BlobType.F32)
        {
            var f = blob.FloatValues.AsArray();
            var r = new int[f.Length];
            for (int i = 0; i < f.Length; i++) r[i] = (int)f[i];
            return r;
        }
        return blob.Values.AsArray();
    }

    /// <summary>A constant input's values as floats, or null when the input is not a constant.</summary>
    public static float[]? ConstantFloats(ArtifactLayer layer, int index)
    {
        if (Source(layer, index) != -2) return null;
        var blob = ConstantBlob(layer, index);
        if (blob.Type == BlobType.F32) return blob.FloatValues.AsArray();
        var v = blob.Values.AsArray();
        var r = new float[v.Length];
        for (int i = 0; i < v.Length; i++) r[i] = v[i];
        return r;
    }

    /// <summary>
    /// The float kernel calls of a float layer (QuantGenFloatKernels), with every shape and attribute resolved; an
    /// ArtifactFormatException naming the node for what no float kernel computes (the quantizer reports it as QG0023).
    /// </summary>
    public static List<FloatCall> Describe(ArtifactLayer layer, Func<string, ArtifactTensor> tensor)
    {
        var op = OpOf(layer.Kind) ?? throw new ArtifactFormatException($"Layer '{layer.Name}' is not a float layer.");
        foreach (var name in layer.Inputs)
            if (tensor(name).ElementType != ArtifactElementType.F32) throw Unsupported(layer, $"reads '{name}', which is not an f32 tensor");
        var y = tensor(layer.Outputs[0]);
        if (y.ElementType != ArtifactElementType.F32) throw Unsupported(layer, "writes a tensor that is not f32");
        int opset = layer.HasInts(OpsetKey) ? layer.GetInt(OpsetKey) : 13;
        var outShape = y.Shape.AsArray();
        return FloatKernelPlans.Describe(layer, op, opset, outShape, tensor);
    }

    /// <summary>ArtifactGeometry's check of a float layer: f32 tensors only, the op one with a float kernel, the calls resolvable.</summary>
    internal static string? Check(ArtifactLayer layer, ArtifactTensor[] inputs, ArtifactTensor output)
    {
        if (Array.IndexOf(KernelOps, OpOf(layer.Kind)) < 0) return "no float kernel computes this op";
        var byName = new Dictionary<string, ArtifactTensor>(StringComparer.Ordinal) { [output.Name] = output };
        for (int i = 0; i < inputs.Length; i++) byName[layer.Inputs[i]] = inputs[i];
        try
        {
            Describe(layer, n => byName[n]);
            return null;
        }
        catch (ArtifactFormatException e)
        {
            return e.Message;
        }
    }

    internal static ArtifactFormatException Unsupported(ArtifactLayer layer, string why) =>
        new($"{OpOf(layer.Kind)} node '{layer.Name}' runs in float, but {why}: no float kernel computes it (docs/generator.md, \"Float kernels\").");
}

/// <summary>One argument of a float kernel call.</summary>
public sealed class FloatArgument
{
    private FloatArgument(FloatArgumentKind kind, string? name, int index, int value, float floatValue, int[]? ints)
    {
        Kind = kind;
        Name = name;
        Index = index;
        Value = value;
        FloatValue = floatValue;
        Ints = ints;
    }

    public FloatArgumentKind Kind { get; }

    /// <summary>The parameter name for named arguments (ints, floats), null for positional ones.</summary>
    public string? Name { get; }

    /// <summary>Operand: the ONNX input position.</summary>
    public int Index { get; }

    public int Value { get; }

    public float FloatValue { get; }

    public int[]? Ints { get; }

    public float[]? Floats { get; private init; }

    public static FloatArgument Operand(int index) => new(FloatArgumentKind.Operand, null, index, 0, 0, null);

    public static FloatArgument OptionalOperand(int index) => new(FloatArgumentKind.OptionalOperand, null, index, 0, 0, null);

    public static FloatArgument Output() => new(FloatArgumentKind.Output, null, 0, 0, 0, null);

    public static FloatArgument Int(string name, int value) => new(FloatArgumentKind.Int, name, 0, value, 0, null);

    public static FloatArgument Float(string name, float value) => new(FloatArgumentKind.Float, name, 0, 0, value, null);

    /// <summary>An int32 array, passed as a constant span.</summary>
    public static FloatArgument IntArray(int[] values) => new(FloatArgumentKind.IntArray, null, 0, 0, 0, values);

    /// <summary>A float32 array, passed as a constant span.</summary>
    public static FloatArgument FloatArray(float[] values) => new(FloatArgumentKind.FloatArray, null, 0, 0, 0, null) { Floats = values };
}

public enum FloatArgumentKind
{
    /// <summary>ONNX input <see cref="FloatArgument.Index"/>: a tensor's span, or its constant data as floats.</summary>
    Operand,
    /// <summary>As <see cref="Operand"/>, or the empty span when the node omits the input.</summary>
    OptionalOperand,
    /// <summary>The layer's output span.</summary>
    Output,
    Int,
    Float,
    IntArray,
    FloatArray,
}

/// <summary>One call of a QuantGenFloatKernels method: its name and arguments in the method's parameter order.</summary>
public sealed class FloatCall
{
    public FloatCall(string kernel, params FloatArgument[] arguments)
    {
        Kernel = kernel;
        Arguments = arguments;
    }

    public string Kernel { get; }

    public FloatArgument[] Arguments { get; }
}
