using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Onnx.Proto;
using QuantGen.Tests.BadInput;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;

namespace QuantGen.Tests.Import;

/// <summary>
/// Opset-21 QDQ types (docs/interop.md, "int4, uint4 and int16"): int4/uint4 weights (two per byte in raw_data, low
/// nibble first) and activations import exactly onto int8 storage and u8 grids clamped to the 4-bit range; int16
/// activations (zero point 0) become the 16-bit mode. A one-Conv model (x → Q → DQ → Conv → Relu → Q → DQ → y) per
/// combination, against ONNX Runtime running the same file as ONNX defines it (graph optimizations off).
/// </summary>
public sealed class QdqNarrowTypeImportTests(ITestOutputHelper output)
{
    private const string Path = "Models/qdq_narrow.onnx";

    private static int OnnxType(string type) => type switch
    {
        "uint8" => 2,
        "int8" => 3,
        "int16" => 5,
        "uint16" => 4,
        "uint4" => 21,
        "int4" => 22,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static (int Lo, int Hi) Range(string type) => type switch
    {
        "uint8" => (0, 255),
        "int8" => (-128, 127),
        "int16" => (-32768, 32767),
        "uint16" => (0, 65535),
        "uint4" => (0, 15),
        _ => (-8, 7),
    };

    /// <summary>A tensor of an integer ONNX type: 4-bit packed two per byte (low nibble first), 16-bit as little-endian raw bytes, 8-bit in int32_data.</summary>
    internal static TensorProto IntTensor(string name, string type, long[] dims, int[] values)
    {
        var t = new TensorProto { Name = name, DataType = OnnxType(type) };
        t.Dims.AddRange(dims);
        if (type is "int4" or "uint4")
        {
            var packed = new byte[(values.Length + 1) / 2];
            for (int i = 0; i < values.Length; i++) packed[i / 2] |= (byte)((values[i] & 0xF) << (4 * (i % 2)));
            t.RawData = ByteString.CopyFrom(packed);
        }
        else if (type is "int16" or "uint16")
            t.RawData = ByteString.CopyFrom(values.SelectMany(v => new[] { (byte)(v & 0xFF), (byte)((v >> 8) & 0xFF) }).ToArray());
        else
            t.Int32Data.AddRange(values);
        return t;
    }

    internal sealed record Form(string Activations, int InputZero, int OutputZero, string Weights, int WeightZero, float InputScale, float WeightScale, float OutputScale);

    public static TheoryData<string> Forms => new() { "int4 weights, uint8 activations", "uint4 activations", "int4 activations", "uint4 weights", "int16 activations" };

    private static Form Of(string name) => name switch
    {
        "int4 weights, uint8 activations" => new("uint8", 3, 5, "int4", 0, 1f / 255, 0.06f, 0.008f),
        "uint4 activations" => new("uint4", 1, 2, "int4", 0, 1f / 14, 0.06f, 0.03f),
        "int4 activations" => new("int4", -7, -6, "int8", 0, 1f / 14, 0.004f, 0.03f),
        "uint4 weights" => new("uint8", 0, 0, "uint4", 8, 1f / 255, 0.06f, 0.008f),
        "int16 activations" => new("int16", 0, 0, "int8", 0, 1f / 30000, 0.004f, 0.00005f),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>x [1,2,6,6] → Q → DQ → Conv 3×3 pad 1 (weights DQ per output channel, int32 bias) → Relu → Q → DQ → y [1,3,6,6], opset 21.</summary>
    internal static byte[] Build(Form f, Action<ModelProto>? edit = null)
    {
        var random = new Random(4);
        var (wlo, whi) = Range(f.Weights);
        var weights = Enumerable.Range(0, 54).Select(_ => random.Next(wlo, whi + 1)).ToArray();
        float[] sw = [f.WeightScale, f.WeightScale * 0.8f, f.WeightScale * 1.2f];
        var g = new GraphProto { Name = "qdq_narrow" };
        g.Input.Add(ModelBuilder.Value("x", 1, 2, 6, 6));
        g.Output.Add(ModelBuilder.Value("y", 1, 3, 6, 6));
        g.Initializer.Add(ModelBuilder.FloatTensor("x_scale", [], [f.InputScale]));
        g.Initializer.Add(IntTensor("x_zero", f.Activations, [], [f.InputZero]));
        g.Initializer.Add(ModelBuilder.FloatTensor("y_scale", [], [f.OutputScale]));
        g.Initializer.Add(IntTensor("y_zero", f.Activations, [], [f.OutputZero]));
        g.Initializer.Add(IntTensor("w", f.Weights, [3, 2, 3, 3], weights));
        g.Initializer.Add(ModelBuilder.FloatTensor("w_scale", [3], sw));
        g.Initializer.Add(IntTensor("w_zero", f.Weights, [3], [f.WeightZero, f.WeightZero, f.WeightZero]));
        g.Initializer.Add(QdqModelBuilder.IntTensor("b", TensorProto.Types.DataType.Int32, [3], [40, -25, 10]));
        g.Initializer.Add(ModelBuilder.FloatTensor("b_scale", [3], sw.Select(s => f.InputScale * s).ToArray()));
        g.Node.Add(QdqModelBuilder.Node("QuantizeLinear", "x_quantize", ["x", "x_scale", "x_zero"], "x_q"));
        g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", "x_dequantize", ["x_q", "x_scale", "x_zero"], "x_dq"));
        g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", "w_dequantize", ["w", "w_scale", "w_zero"], "w_dq", axis: 0));
        g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", "b_dequantize", ["b", "b_scale"], "b_dq", axis: 0));
        var conv = new NodeProto { Name = "conv", OpType = "Conv", Input = { "x_dq", "w_dq", "b_dq" }, Output = { "conv_out" } };
        conv.Attribute.Add(new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 3, 3 } });
        conv.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
        g.Node.Add(conv);
        g.Node.Add(new NodeProto { Name = "relu", OpType = "Relu", Input = { "conv_out" }, Output = { "relu_out" } });
        g.Node.Add(QdqModelBuilder.Node("QuantizeLinear", "y_quantize", ["relu_out", "y_scale", "y_zero"], "y_q"));
        g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", "y_dequantize", ["y_q", "y_scale", "y_zero"], "y"));
        var model = new ModelProto { IrVersion = 10, ProducerName = "quantgen-tests", Graph = g, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 21 } } };
        edit?.Invoke(model);
        return model.ToByteArray();
    }

    internal static int[] WeightsOf(Form f)
    {
        var random = new Random(4);
        var (wlo, whi) = Range(f.Weights);
        return Enumerable.Range(0, 54).Select(_ => random.Next(wlo, whi + 1) - f.WeightZero).ToArray();
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void NarrowAndWideTypesImportExactlyAndAgreeWithOnnxRuntime(string name)
    {
        var f = Of(name);
        var bytes = Build(f);
        var artifact = ModelQuantizer.Quantize(OnnxModelLoader.Load(bytes, Path), new QuantizationOptions(), null).Artifact;
        var conv = artifact.Layers.Single(l => l.Kind == LayerKinds.Conv);
        // The model's integers (q − zero point), unpacked from the nibbles.
        Assert.Equal(WeightsOf(f), conv.GetBlob("weights").Values.AsArray());
        // The grids: the scale as given; the storage range is the ONNX type's, shifted onto u8 for signed 4/8-bit types.
        var x = artifact.GetTensor(conv.Inputs[0]);
        var y = artifact.GetTensor(conv.Outputs[0]);
        int shift = f.Activations is "int8" or "int4" ? 128 : 0;
        var (lo, hi) = Range(f.Activations);
        Assert.Equal((f.InputScale, f.InputZero + shift, lo + shift, hi + shift), (x.Scale, x.ZeroPoint, x.QMin, x.QMax));
        Assert.Equal((f.OutputScale, f.OutputZero + shift, lo + shift, hi + shift), (y.Scale, y.ZeroPoint, y.QMin, y.QMax));
        Assert.Equal(f.Activations == "int16" ? ArtifactElementType.I16 : ArtifactElementType.U8, y.ElementType);

        var simulator = new IntegerSimulator(artifact);
        using var session = new InferenceSession(bytes, new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL });
        var random = new Random(9);
        int maxLsb = 0, differing = 0, saturated = 0;
        for (int n = 0; n < 40; n++)
        {
            var input = Enumerable.Range(0, 72).Select(_ => (float)random.NextDouble() * 1.2f - 0.1f).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = input })["y"];
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(input, [1, 2, 6, 6]))]);
            var actual = results.Single().AsTensor<float>().ToArray();
            for (int j = 0; j < expected.Length; j++)
            {
                int d = (int)Math.Round(Math.Abs(expected[j] - actual[j]) / f.OutputScale);
                if (d != 0) differing++;
                if (Math.Abs(actual[j] - f.OutputScale * (hi - f.OutputZero)) < f.OutputScale / 4) saturated++;
                maxLsb = Math.Max(maxLsb, d);
            }
        }
        output.WriteLine($"{name}: max |Δ| {maxLsb} LSB, {differing} of {40 * 108} outputs differ, {saturated} at the type's top");
        Assert.True(maxLsb <= 1, $"{name}: max |Δ| {maxLsb} LSB");
        // The 4-bit grids saturate at the type's top (ONNX QuantizeLinear), which the u8 storage's clamp must reproduce.
        if (f.Activations is "int4" or "uint4") Assert.True(saturated > 100, $"{name}: only {saturated} outputs reach the 4-bit top");

        // The generated class equals the simulator on every kernel path: the 4-bit clamps on u8 storage, int16's −32768 end.
        var artifactPath = "/project/obj/quantgen/narrow.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(artifactPath, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(artifactPath, "Narrow"));
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(GeneratedCodeTests.Probe("Narrow")), driver);
        var run = assembly.GetType("Probe")!.GetMethod("Run")!;
        var paths = GeneratedCodeTests.KernelPaths(assembly);
        for (int n = 0; n < 20; n++)
        {
            var input = Enumerable.Range(0, 72).Select(_ => (float)random.NextDouble() * 1.2f - 0.1f).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = input })["y"];
            foreach (var (pathName, select) in paths)
            {
                select();
                Assert.True(expected.SequenceEqual((float[])run.Invoke(null, [input])!), $"{name}: the {pathName} path differs from the simulator");
            }
        }
        paths[0].Select();
    }

    private static ModelException Fails(byte[] model)
    {
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(OnnxModelLoader.Load(model, Path), new QuantizationOptions(), null));
        Assert.Equal(Path, e.ModelPath);
        return e;
    }

    [Fact]
    public void CombinationsQuantGenCannotExpressAreRefusedNamingTheNode()
    {
        var int16 = Of("int16 activations");
        // int16 with a zero point: QuantGen's 16-bit activations are symmetric.
        var zero = Fails(Build(int16 with { OutputZero = 5 }));
        Assert.Equal((ErrorCodes.QdqNotExpressible, "y_quantize"), (zero.Code, zero.NodeName));
        Assert.Contains("to int16 with zero point 5", zero.Message, StringComparison.Ordinal);
        // int16 weights: QuantGen stores weights in int8.
        var weights = Fails(Build(int16 with { Weights = "int16", WeightScale = 0.00002f }));
        Assert.Equal((ErrorCodes.QdqNotExpressible, "w_dequantize"), (weights.Code, weights.NodeName));
        Assert.Contains("int16 data", weights.Message, StringComparison.Ordinal);
        // int16 input and uint8 output: all activations 16-bit or none.
        var mixed = Fails(Build(int16, m =>
        {
            m.Graph.Initializer.Remove(m.Graph.Initializer.Single(t => t.Name == "y_zero"));
            m.Graph.Initializer.Add(IntTensor("y_zero", "uint8", [], [0]));
            m.Graph.Initializer.Single(t => t.Name == "y_scale").FloatData[0] = 0.008f;
        }));
        Assert.Equal(ErrorCodes.QdqNotExpressible, mixed.Code);
        Assert.Contains("all 8-bit or all 16-bit", mixed.Message, StringComparison.Ordinal);
        // uint16: no QuantGen grid; the file's uint16 zero point is refused as it is read (QG0009, naming the tensor).
        var u16 = Fails(Build(new Form("uint16", 0, 0, "int8", 0, 1f / 65535, 0.004f, 0.0001f)));
        Assert.Equal(ErrorCodes.UnsupportedDataType, u16.Code);
        Assert.Contains("'x_zero'", u16.Message, StringComparison.Ordinal);
        // An int4 zero point read from int32_data must be two packed nibbles (a byte).
        var packed = Fails(Build(Of("int4 activations"), m =>
        {
            var t = m.Graph.Initializer.Single(t => t.Name == "y_zero");
            t.ClearRawData();
            t.Int32Data.Add(300);
        }));
        Assert.Equal((ErrorCodes.BadQdqParameters, "y_quantize"), (packed.Code, packed.NodeName));
        Assert.Contains("not two packed 4-bit values", packed.Message, StringComparison.Ordinal);
    }
}
