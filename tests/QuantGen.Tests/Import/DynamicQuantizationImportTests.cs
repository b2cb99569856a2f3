using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Onnx.Proto;
using QuantGen.Tests.BadInput;
using Xunit.Abstractions;
using DataType = QuantGen.Onnx.Proto.TensorProto.Types.DataType;
using Tensor = QuantGen.Core.Ir.Tensor;

namespace QuantGen.Tests.Import;

/// <summary>
/// Dynamically quantized models as ONNX Runtime's <c>quantize_dynamic</c> writes them (docs/interop.md, "Dynamic
/// quantization"): DynamicQuantizeLinear → MatMulInteger/ConvInteger → Cast → Mul(Mul(x_scale, W_scale)) [→ Add bias],
/// with ORT's node and tensor names, weights symmetric int8 with reduce_range (MatMul always; given to Conv too) on
/// [−64, 64]. The import keeps the integer weights and their scales, calibrates the activations (QG0086 says so), and
/// the generated class is compared with ONNX Runtime running the dynamic file and the float model it came from.
/// </summary>
public sealed class DynamicQuantizationImportTests(ITestOutputHelper output)
{
    /// <summary>A float model's layer and the int8 weights quantize_dynamic made of it.</summary>
    private sealed record Layer(string Name, float[] W, long[] Shape, float[] Bias, sbyte[] Q, float[] Scales);

    /// <summary>ORT's quantize_data for symmetric int8 with reduce_range: scale = max|w| / 64, q = round(w / scale) on [−64, 64]; per column for per-channel MatMul.</summary>
    private static Layer Quantize(string name, float[] w, long[] shape, float[] bias, bool perChannel)
    {
        int n = (int)shape[^1];
        int channels = perChannel ? n : 1;
        var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            float max = 0;
            for (int i = 0; i < w.Length; i++)
                if (!perChannel || i % n == c) max = Math.Max(max, Math.Abs(w[i]));
            scales[c] = max / 64f;
        }
        var q = w.Select((v, i) => (sbyte)Math.Clamp(Math.Round(v / scales[perChannel ? i % n : 0], MidpointRounding.ToEven), -64, 64)).ToArray();
        return new Layer(name, w, shape, bias, q, scales);
    }

    private static float[] Uniform(Random random, int n, float scale) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale).ToArray();

    private static long Elements(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>
    /// MLP: input [1, 32] → MatMul fc1 [32, 24] + b1 → Relu → MatMul fc2 [24, 10] + b2 → logits.
    /// CNN: input [1, 2, 8, 8] → Conv conv1 [4, 2, 3, 3] (pad 1, bias) → Relu → Flatten → MatMul fc [256, 10] + b → logits.
    /// </summary>
    private static Layer[] Layers(bool conv, bool perChannel)
    {
        var random = new Random(conv ? 61 : 62);
        if (conv)
            return
            [
                Quantize("conv1", Uniform(random, 72, 0.4f), [4, 2, 3, 3], Uniform(random, 4, 0.1f), perChannel: false),
                Quantize("fc", Uniform(random, 2560, 0.08f), [256, 10], Uniform(random, 10, 0.2f), perChannel),
            ];
        return
        [
            Quantize("fc1", Uniform(random, 32 * 24, 0.3f), [32, 24], Uniform(random, 24, 0.2f), perChannel),
            Quantize("fc2", Uniform(random, 24 * 10, 0.3f), [24, 10], Uniform(random, 10, 0.2f), perChannel),
        ];
    }

    private static long[] InputShape(bool conv) => conv ? [1, 2, 8, 8] : [1, 32];

    /// <summary>The float model (<paramref name="dynamic"/> false) or ORT's quantize_dynamic output for it.</summary>
    internal static byte[] Build(bool conv, bool perChannel, bool dynamic, Action<GraphProto>? edit = null)
    {
        var layers = Layers(conv, perChannel);
        var g = new GraphProto { Name = conv ? "dynamic_cnn" : "dynamic_mlp" };
        g.Input.Add(ModelBuilder.Value("input", InputShape(conv)));
        g.Output.Add(ModelBuilder.Value("logits", 1, 10));
        // One float layer as quantize_dynamic rewrites it: MatMul/Conv(x) → y (+ bias).
        void Product(string x, Layer layer, string y, bool isConv)
        {
            if (!dynamic)
            {
                g.Initializer.Add(ModelBuilder.FloatTensor(layer.Name + "_W", layer.Shape, layer.W));
                var node = new NodeProto { Name = layer.Name, OpType = isConv ? "Conv" : "MatMul", Input = { x, layer.Name + "_W" }, Output = { isConv ? y : y + "_mm" } };
                if (isConv) { node.Input.Add(layer.Name + "_B"); ConvAttributes(node); }
                g.Node.Add(node);
                g.Initializer.Add(ModelBuilder.FloatTensor(layer.Name + "_B", [layer.Bias.Length], layer.Bias));
                if (!isConv) g.Node.Add(new NodeProto { Name = layer.Name + "_add", OpType = "Add", Input = { y + "_mm", layer.Name + "_B" }, Output = { y } });
                return;
            }
            // ONNX Runtime's names: DynamicQuantizeLinear "<x>_QuantizeLinear" (one per tensor, shared by its readers).
            if (!g.Node.Any(n => n.Name == x + "_QuantizeLinear"))
                g.Node.Add(new NodeProto { Name = x + "_QuantizeLinear", OpType = "DynamicQuantizeLinear", Input = { x }, Output = { x + "_quantized", x + "_scale", x + "_zero_point" } });
            string w = layer.Name + "_W", op = layer.Name + "_quant", mmOut = isConv ? y : y + "_mm";
            g.Initializer.Add(QdqModelBuilder.IntTensor(w + "_quantized", DataType.Int8, layer.Shape, layer.Q.Select(v => (int)v).ToArray()));
            g.Initializer.Add(ModelBuilder.FloatTensor(w + "_scale", layer.Scales.Length == 1 ? [] : [layer.Scales.Length], layer.Scales));
            g.Initializer.Add(QdqModelBuilder.IntTensor(w + "_zero_point", DataType.Int8, layer.Scales.Length == 1 ? [] : [layer.Scales.Length], new int[layer.Scales.Length]));
            var integer = new NodeProto { Name = op, OpType = isConv ? "ConvInteger" : "MatMulInteger", Input = { x + "_quantized", w + "_quantized", x + "_zero_point", w + "_zero_point" }, Output = { mmOut + "_output_quantized" } };
            if (isConv) ConvAttributes(integer);
            g.Node.Add(integer);
            g.Node.Add(new NodeProto
            {
                Name = mmOut + "_output_quantized_cast",
                OpType = "Cast",
                Input = { mmOut + "_output_quantized" },
                Output = { mmOut + "_output_quantized_cast_output" },
                Attribute = { new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = 1 } },
            });
            g.Node.Add(new NodeProto { Name = op + "_scales_mul", OpType = "Mul", Input = { x + "_scale", w + "_scale" }, Output = { op + "_scales_mul:0" } });
            string scaled = isConv ? y + "quant_scaled_output" : mmOut;
            g.Node.Add(new NodeProto { Name = op + "_output_scale_mul", OpType = "Mul", Input = { mmOut + "_output_quantized_cast_output", op + "_scales_mul:0" }, Output = { scaled } });
            g.Initializer.Add(ModelBuilder.FloatTensor(layer.Name + "_B", [layer.Bias.Length], layer.Bias));
            if (isConv)
            {
                // ConvInteger.add_bias: an unnamed Reshape of the float bias to [1, -1, 1, 1], then "<y>_bias_add".
                var shape = new TensorProto { Name = y + "_bias_reshape_shape", DataType = (int)DataType.Int64, Dims = { 4 }, Int64Data = { 1, -1, 1, 1 } };
                g.Initializer.Add(shape);
                g.Node.Add(new NodeProto { OpType = "Reshape", Input = { layer.Name + "_B", shape.Name }, Output = { y + "_bias_reshape_output" } });
                g.Node.Add(new NodeProto { Name = y + "_bias_add", OpType = "Add", Input = { scaled, y + "_bias_reshape_output" }, Output = { y } });
            }
            else g.Node.Add(new NodeProto { Name = layer.Name + "_add", OpType = "Add", Input = { y + "_mm", layer.Name + "_B" }, Output = { y } });
        }

        if (conv)
        {
            Product("input", layers[0], "conv1_out", isConv: true);
            g.Node.Add(new NodeProto { Name = "relu1", OpType = "Relu", Input = { "conv1_out" }, Output = { "r1" } });
            g.Node.Add(new NodeProto { Name = "flatten", OpType = "Flatten", Input = { "r1" }, Output = { "flat" } });
            Product("flat", layers[1], "logits", isConv: false);
        }
        else
        {
            Product("input", layers[0], "h1", isConv: false);
            g.Node.Add(new NodeProto { Name = "relu1", OpType = "Relu", Input = { "h1" }, Output = { "r1" } });
            Product("r1", layers[1], "logits", isConv: false);
        }
        edit?.Invoke(g);
        var model = new ModelProto { IrVersion = 8, ProducerName = dynamic ? "onnx.quantize" : "quantgen-tests", Graph = g, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } } };
        return model.ToByteArray();
    }

    private static void ConvAttributes(NodeProto node)
    {
        node.Attribute.Add(new AttributeProto { Name = "kernel_shape", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 3, 3 } });
        node.Attribute.Add(new AttributeProto { Name = "pads", Type = AttributeProto.Types.AttributeType.Ints, Ints = { 1, 1, 1, 1 } });
    }

    /// <summary>Inputs like the ones the float model is meant for: an image in [0, 1], a feature vector in [−1, 1].</summary>
    private static float[] Sample(Random random, bool conv) =>
        Enumerable.Range(0, (int)Elements(InputShape(conv))).Select(_ => conv ? (float)random.NextDouble() : (float)(random.NextDouble() * 2 - 1)).ToArray();

    private const int CalibrationSamples = 256;

    private static CalibrationSet Calibration(bool conv)
    {
        var random = new Random(1);
        var shape = InputShape(conv).Select(d => (int)d).ToArray();
        shape[0] = CalibrationSamples;
        var data = Enumerable.Range(0, CalibrationSamples).SelectMany(_ => Sample(random, conv)).ToArray();
        return new CalibrationSet(new Dictionary<string, Tensor> { ["input"] = Tensor.FromArray(shape, data) });
    }

    private static double Sqnr(List<float> reference, List<float> approximation)
    {
        double signal = 0, noise = 0;
        for (int i = 0; i < reference.Count; i++)
        {
            signal += (double)reference[i] * reference[i];
            noise += ((double)reference[i] - approximation[i]) * ((double)reference[i] - approximation[i]);
        }
        return 10 * Math.Log10(signal / noise);
    }

    private static int ArgMax(List<float> values, int offset) => Enumerable.Range(offset, 10).MaxBy(i => values[i]) - offset;

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void QuantizeDynamicOutputBuildsWithItsWeightsAndAgreesWithOnnxRuntime(bool conv, bool perChannel)
    {
        var bytes = Build(conv, perChannel, dynamic: true);
        string path = conv ? "Models/dynamic_cnn.onnx" : "Models/dynamic_mlp.onnx";
        var result = ModelQuantizer.Quantize(OnnxModelLoader.Load(bytes, path), new QuantizationOptions(), Calibration(conv));
        var artifact = result.Artifact;
        output.WriteLine(string.Join(", ", artifact.Layers.Select(l => $"{l.Kind} {l.Name}")));
        Assert.DoesNotContain(artifact.Layers, l => l.Kind.StartsWith("Float.", StringComparison.Ordinal));
        // The Conv's bias, which quantize_dynamic adds after the scaling (Add of Reshape(B)), is the Conv's bias again.
        Assert.DoesNotContain(artifact.Layers, l => l.Kind == LayerKinds.Affine);

        // The weights are the model's integers, as ONNX Runtime's quantizer wrote them ([K, N] stored, [N, K] in the artifact).
        foreach (var layer in Layers(conv, perChannel))
        {
            var weights = artifact.Layers.Single(l => l.Name == layer.Name + "_quant").GetBlob("weights").Values.AsArray();
            var expected = layer.Shape.Length == 4 ? layer.Q.Select(v => (int)v).ToArray()
                : Enumerable.Range(0, layer.Q.Length).Select(j => (int)layer.Q[j % (int)layer.Shape[0] * (int)layer.Shape[1] + j / (int)layer.Shape[0]]).ToArray();
            Assert.Equal(expected, weights);
        }
        // Not silent: QG0086 names each DynamicQuantizeLinear and the static grid its activation got.
        var warning = Assert.Single(result.Warnings, w => w.Code == ErrorCodes.DynamicQuantizationCalibrated);
        output.WriteLine(warning.ToString());
        Assert.Contains("'input_QuantizeLinear'", warning.Message, StringComparison.Ordinal);
        Assert.Contains(conv ? "'flat_QuantizeLinear'" : "'r1_QuantizeLinear'", warning.Message, StringComparison.Ordinal);
        var input = artifact.GetTensor("input");
        Assert.Contains(FixedQuantizationPass.Describe(new ActivationGrid(input.Scale, input.ZeroPoint, 0, 255)), warning.Message, StringComparison.Ordinal);
        Assert.Contains("the calibration data", warning.Message, StringComparison.Ordinal);

        var generated = new ImportedClass(artifact, conv ? "DynamicCnn" : "DynamicMlp", "input", "logits");
        var options = new SessionOptions { IntraOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var dynamicSession = new InferenceSession(bytes, options);
        var floatBytes = Build(conv, perChannel, dynamic: false);
        using var floatSession = new InferenceSession(floatBytes, options);
        // QuantGen's own static quantization of the float model, same calibration: what static activation grids cost by themselves.
        var ptq = new IntegerSimulator(ModelQuantizer.Quantize(OnnxModelLoader.Load(floatBytes, path), new QuantizationOptions(), Calibration(conv)).Artifact);
        var random = new Random(2);
        int[] shape = InputShape(conv).Select(d => (int)d).ToArray();
        List<float> ours = [], ort = [], reference = [], own = [];
        const int Samples = 200;
        for (int n = 0; n < Samples; n++)
        {
            var x = Sample(random, conv);
            ours.AddRange(generated.Run(x));
            own.AddRange(ptq.Run(new Dictionary<string, float[]> { ["input"] = x })["logits"]);
            using (var r = dynamicSession.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x, shape))])) ort.AddRange(r.Single().AsTensor<float>());
            using (var r = floatSession.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x, shape))])) reference.AddRange(r.Single().AsTensor<float>());
        }
        double agreement = Enumerable.Range(0, Samples).Count(i => ArgMax(ours, i * 10) == ArgMax(ort, i * 10)) / (double)Samples;
        double ortVsFloat = Sqnr(reference, ort), oursVsFloat = Sqnr(reference, ours), oursVsOrt = Sqnr(ort, ours), ownVsFloat = Sqnr(reference, own);
        var logits = artifact.GetTensor(artifact.Layers.Single(l => l.Kind == LayerKinds.Dequantize).Inputs[0]);
        double maxSteps = ours.Zip(ort).Max(p => Math.Abs(p.First - p.Second)) / logits.Scale;
        // Logits beyond the range calibrated on 256 samples saturate at the grid's ends (ONNX Runtime's float output does not).
        int saturated = ours.Count(v => v == -logits.ZeroPoint * logits.Scale || v == (255 - logits.ZeroPoint) * logits.Scale);
        output.WriteLine($"{(conv ? "CNN" : "MLP")}{(perChannel ? " per channel" : "")}: SQNR against the float model: ONNX Runtime dynamic {ortVsFloat:F1} dB, QuantGen static {oursVsFloat:F1} dB, QuantGen's PTQ of the float model {ownVsFloat:F1} dB; " +
            $"QuantGen against ONNX Runtime {oursVsOrt:F1} dB, top-1 agreement {agreement:P1}, max |Δ| {maxSteps:F2} output steps, {saturated} of {ours.Count} logits saturated; generated class = simulator on {generated.PathCount} kernel paths");
        // The import combines two quantizations: ONNX Runtime's weights (its SQNR bounds what they allow) and static
        // activation grids (QuantGen's own PTQ of the float model bounds what those allow; unlike the dynamic model's float
        // outputs they requantize every layer's output and saturate beyond the calibrated range). The imported model is
        // within 2 dB of the worse of the two, and agrees with ONNX Runtime (measured 33.6-42.0 dB, 98-100% top-1; a wrong
        // weight scale, axis or zero point falls far below).
        Assert.True(oursVsFloat >= Math.Min(ortVsFloat, ownVsFloat) - 2, $"QuantGen {oursVsFloat:F1} dB, ONNX Runtime {ortVsFloat:F1} dB, QuantGen's PTQ {ownVsFloat:F1} dB");
        Assert.True(oursVsOrt >= 30, $"QuantGen against ONNX Runtime: {oursVsOrt:F1} dB");
        Assert.True(agreement >= 0.97, $"top-1 agreement {agreement:P1}");
    }

    [Fact]
    public void DataFreeBuildUsesTheInputRange()
    {
        var bytes = Build(conv: false, perChannel: false, dynamic: true);
        var model = OnnxModelLoader.Load(bytes, "Models/dynamic_mlp.onnx");
        // Like any float model: without calibration data the input's range must be stated (QG0021).
        Assert.Equal(ErrorCodes.MissingInputRange, Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, new QuantizationOptions(), null)).Code);
        var result = ModelQuantizer.Quantize(model, new QuantizationOptions { InputStatistics = InputStatistics.Parse("-1,1", null, null) }, null);
        var input = result.Artifact.GetTensor("input");
        Assert.Equal(2f / 255, input.Scale, 6);
        var warning = Assert.Single(result.Warnings, w => w.Code == ErrorCodes.DynamicQuantizationCalibrated);
        Assert.Contains("the stated input ranges", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DynamicQuantizeLinearFeedingAnythingElseIsRefusedNamingIt()
    {
        // The quantized activation also read by a Cast (not a MatMulInteger/ConvInteger input).
        var bytes = Build(conv: false, perChannel: false, dynamic: true, edit: g =>
        {
            g.Node.Add(new NodeProto { Name = "peek", OpType = "Cast", Input = { "input_quantized" }, Output = { "peek_out" }, Attribute = { new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = 1 } } });
            g.Output.Add(ModelBuilder.Value("peek_out", 1, 32));
        });
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(OnnxModelLoader.Load(bytes, "Models/dynamic_mlp.onnx"), new QuantizationOptions(), Calibration(false)));
        Assert.Equal((ErrorCodes.QOperatorNotImported, "input_QuantizeLinear", "Models/dynamic_mlp.onnx"), (e.Code, e.NodeName, e.ModelPath));
        Assert.Contains("Cast 'peek'", e.Message, StringComparison.Ordinal);

        // The per-run scale used for something else than the product's scale.
        bytes = Build(conv: false, perChannel: false, dynamic: true, edit: g =>
        {
            g.Node.Add(new NodeProto { Name = "scale_use", OpType = "Add", Input = { "input_scale", "input_scale" }, Output = { "scale_twice" } });
            g.Output.Add(ModelBuilder.Value("scale_twice"));
        });
        e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(OnnxModelLoader.Load(bytes, "Models/dynamic_mlp.onnx"), new QuantizationOptions(), Calibration(false)));
        Assert.Equal((ErrorCodes.QOperatorNotImported, "input_QuantizeLinear"), (e.Code, e.NodeName));
        Assert.Contains("Add 'scale_use'", e.Message, StringComparison.Ordinal);

        // A MatMulInteger whose result is scaled by a constant instead of the per-run scale: not the dynamic product.
        bytes = Build(conv: false, perChannel: false, dynamic: true, edit: g =>
        {
            g.Initializer.Add(ModelBuilder.FloatTensor("fixed_scale", [], [0.001f]));
            g.Node.Single(n => n.Name == "fc2_quant_output_scale_mul").Input[1] = "fixed_scale";
        });
        e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(OnnxModelLoader.Load(bytes, "Models/dynamic_mlp.onnx"), new QuantizationOptions(), Calibration(false)));
        Assert.Equal(("fc2_quant"), e.NodeName);
        Assert.Contains("Mul('r1_scale', weight scale)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StaticQuantizationMixedInIsRefusedNamingTheNode()
    {
        var bytes = Build(conv: false, perChannel: false, dynamic: true, edit: g =>
        {
            g.Initializer.Add(ModelBuilder.FloatTensor("r_scale", [], [0.02f]));
            g.Initializer.Add(QdqModelBuilder.IntTensor("r_zero", DataType.Uint8, [], [0]));
            g.Node.Add(QdqModelBuilder.Node("QuantizeLinear", "extra_quantize", ["logits", "r_scale", "r_zero"], "extra_q"));
            g.Node.Add(QdqModelBuilder.Node("DequantizeLinear", "extra_dequantize", ["extra_q", "r_scale", "r_zero"], "extra"));
            g.Output.Add(ModelBuilder.Value("extra", 1, 10));
        });
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(OnnxModelLoader.Load(bytes, "Models/dynamic_mlp.onnx"), new QuantizationOptions(), Calibration(false)));
        Assert.Equal((ErrorCodes.QOperatorNotImported, "extra_quantize"), (e.Code, e.NodeName));
        Assert.Contains("DynamicQuantizeLinear 'input_QuantizeLinear'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OptionsThatWouldChangeTheWeightsAreRefused()
    {
        var model = OnnxModelLoader.Load(Build(conv: false, perChannel: false, dynamic: true), "Models/dynamic_mlp.onnx");
        foreach (var options in new[] { new QuantizationOptions { WeightBits = 4 }, new QuantizationOptions { Algorithms = QuantizationAlgorithms.Cle } })
        {
            var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, options, Calibration(false)));
            Assert.Equal(ErrorCodes.InvalidOption, e.Code);
            Assert.Contains("quantized dynamically", e.Message, StringComparison.Ordinal);
        }
    }
}
