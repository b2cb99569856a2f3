using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Onnx;
using QuantGen.Onnx.Proto;
using QuantGen.Tests.Data;
using Xunit.Abstractions;

namespace QuantGen.Tests.RealModels;

/// <summary>
/// The edge-style Fashion-MNIST models of tests/models/train_edge_models.py (issue 17): they hold what the exporters
/// of third-party edge networks write, and the reference executor runs every one of their nodes as ONNX Runtime does.
/// </summary>
public sealed class EdgeModelTests(ITestOutputHelper output)
{
    /// <summary>As <see cref="RealModelTests"/>: relative error, on a floor of 1% of the output's largest magnitude.</summary>
    private const double Tolerance = 1e-4;

    internal static readonly string[] Names = ["fashion_mobilenetv3", "fashion_mobilenetv3_constants", "fashion_segmenter", "fashion_transformer", "fashion_audio1d"];

    public static TheoryData<string> Models => new(Names);

    /// <summary>fashion_audio1d reads the image as a sequence: [1, 28 features (columns), steps (rows)].</summary>
    internal static float[] AsSequence(float[] image, int steps = 28)
    {
        var sequence = new float[28 * steps];
        for (int row = 0; row < steps; row++)
            for (int column = 0; column < 28; column++)
                sequence[column * steps + row] = image[row * 28 + column];
        return sequence;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void EdgeModelMatchesOnnxRuntime(string name)
    {
        var path = RealModelPaths.Fashion(name);
        var model = OnnxModelLoader.Load(path);
        string input = model.Graph.Inputs.Single().Name, outputName = model.Graph.Outputs.Single().Name;
        bool sequence = name == "fashion_audio1d";
        using var oracle = new OnnxRuntimeOracle(path);
        var (images, _) = FashionMnist.TestSet;
        // fashion_mobilenetv3_constants has symbolic height and width, fashion_audio1d symbolic steps: 28 here.
        var dims = name switch
        {
            "fashion_mobilenetv3_constants" => new Dictionary<string, int> { ["height"] = 28, ["width"] = 28 },
            "fashion_audio1d" => new Dictionary<string, int> { ["steps"] = 28 },
            _ => [],
        };
        var executor = new ReferenceExecutor(ModelPreparation.Prepare(model, new ShapeOptions { Dimensions = dims }));
        double worst = 0;
        for (int i = 0; i < 16; i++)
        {
            var image = images.AsSpan(i * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            var (data, shape) = sequence ? (AsSequence(image), new[] { 1, 28, 28 }) : (image, new[] { 1, 1, 28, 28 });
            var expected = oracle.Run(input, data, shape)[outputName];
            var actual = executor.Run(new Dictionary<string, Tensor> { [input] = Tensor.FromArray(shape, data) })[outputName];
            worst = Math.Max(worst, RelativeError(expected, actual.ToArray<float>()));
        }

        // A batch of 4 through a graph prepared for batch 4.
        var batch = new float[4 * FashionMnist.Pixels];
        for (int i = 0; i < 4; i++)
        {
            var image = images.AsSpan((100 + i) * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();
            (sequence ? AsSequence(image) : image).CopyTo(batch, i * FashionMnist.Pixels);
        }
        int[] batchShape = sequence ? [4, 28, 28] : [4, 1, 28, 28];
        var batchExpected = oracle.Run(input, batch, batchShape)[outputName];
        var batched = new ReferenceExecutor(ModelPreparation.Prepare(model, new ShapeOptions { BatchSize = 4, Dimensions = dims }));
        var batchActual = batched.Run(new Dictionary<string, Tensor> { [input] = Tensor.FromArray(batchShape, batch) })[outputName];
        worst = Math.Max(worst, RelativeError(batchExpected, batchActual.ToArray<float>()));

        output.WriteLine($"{name}: max relative error {worst:E2} over 16 single images and a batch of 4");
        Assert.True(worst <= Tolerance, $"{name}: max relative error {worst:E2} > {Tolerance:E0}");
    }

    [Fact]
    public void SymbolicDimsTakeTheSizesGiven()
    {
        var (images, _) = FashionMnist.TestSet;
        var image = images.AsSpan(7 * FashionMnist.Pixels, FashionMnist.Pixels).ToArray();

        // fashion_mobilenetv3_constants: [N, 1, height, width], here a 36×40 image (the 28×28 one with a zero border).
        var path = RealModelPaths.Fashion("fashion_mobilenetv3_constants");
        var model = OnnxModelLoader.Load(path);
        Assert.Equal(["batch", "1", "height", "width"], model.Graph.Inputs.Single().Dims!.Select(d => d.ToString()));
        var padded = new float[36 * 40];
        for (int y = 0; y < 28; y++)
            image.AsSpan(y * 28, 28).CopyTo(padded.AsSpan((y + 4) * 40 + 6));
        using (var oracle = new OnnxRuntimeOracle(path))
        {
            var expected = oracle.Run("image", padded, [1, 1, 36, 40])["logits"];
            var prepared = ModelPreparation.Prepare(model, new ShapeOptions { InputShapes = new Dictionary<string, int[]> { ["image"] = [1, 1, 36, 40] } });
            var actual = new ReferenceExecutor(prepared).Run(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([1, 1, 36, 40], padded) })["logits"];
            double error = RelativeError(expected, actual.ToArray<float>());
            output.WriteLine($"fashion_mobilenetv3_constants at 36×40: {error:E2}");
            Assert.True(error <= Tolerance, $"36×40: {error:E2}");
        }

        // fashion_audio1d: [N, 28, steps], here the first 20 rows of the image, with an output step per input step.
        path = RealModelPaths.Fashion("fashion_audio1d");
        model = OnnxModelLoader.Load(path);
        var steps = AsSequence(image, 20);
        using (var oracle = new OnnxRuntimeOracle(path))
        {
            var expected = oracle.Run("features", steps, [1, 28, 20])["logits"];
            var prepared = ModelPreparation.Prepare(model, new ShapeOptions { Dimensions = new Dictionary<string, int> { ["steps"] = 20 } });
            var actual = new ReferenceExecutor(prepared).Run(new Dictionary<string, Tensor> { ["features"] = Tensor.FromArray([1, 28, 20], steps) })["logits"];
            Assert.Equal([1, 10, 20], actual.Shape);
            double error = RelativeError(expected, actual.ToArray<float>());
            output.WriteLine($"fashion_audio1d at 20 steps: {error:E2}");
            Assert.True(error <= Tolerance, $"20 steps: {error:E2}");
        }
    }

    /// <summary>openWakeWord-recipe heads from the openwakeword-js package (tests/setup.sh): Gemm layers and LayerNorm written out, on random embeddings.</summary>
    [Theory]
    [InlineData("hello_deepa")]
    [InlineData("namaste_deepa")]
    public void DeepaHeadsMatchOnnxRuntime(string name)
    {
        var path = RealModelPaths.WakeWord(name);
        var model = OnnxModelLoader.Load(path);
        var input = model.Graph.Inputs.Single();
        int[] shape = input.Dims!.Select(d => (int)d.Value).ToArray();
        using var oracle = new OnnxRuntimeOracle(path);
        var executor = new ReferenceExecutor(ModelPreparation.Prepare(model));
        var random = new Random(5);
        double worst = 0;
        for (int sample = 0; sample < 8; sample++)
        {
            var features = new float[shape.Aggregate(1, (a, d) => a * d)];
            for (int i = 0; i < features.Length; i++) features[i] = (float)(random.NextDouble() * 6 - 3);
            var expected = oracle.Run(input.Name, features, shape).Single().Value;
            var actual = executor.Run(new Dictionary<string, Tensor> { [input.Name] = Tensor.FromArray(shape, features) }).Single().Value;
            worst = Math.Max(worst, RelativeError(expected, actual.ToArray<float>()));
        }
        output.WriteLine($"{name}: max relative error {worst:E2} over 8 random embedding windows");
        Assert.True(worst <= Tolerance, $"{name}: max relative error {worst:E2} > {Tolerance:E0}");
    }

    /// <summary>The models hold the constructs issue 17 is about, as the exporters write them (read from the protobuf, not through QuantGen's loader).</summary>
    [Fact]
    public void ModelsHoldTheExportedConstructs()
    {
        foreach (var name in Names)
            Assert.True(new FileInfo(RealModelPaths.Fashion(name)).Length < 2_000_000, $"{name} is 2 MB or more");

        var mobilenet = Proto("fashion_mobilenetv3");
        // Hard-swish decomposed: Add(x, 3) → Clip(0, 6) → Mul(x, ·) → Div(·, 6).
        Assert.Contains(mobilenet.Node, n => n.OpType == "Div" && Producer(mobilenet, n.Input[0]) is { OpType: "Mul" } mul
            && Producer(mobilenet, mul.Input[1]) is { OpType: "Clip" } clip && Producer(mobilenet, clip.Input[0]) is { OpType: "Add" } add && add.Input[0] == mul.Input[0]);
        // Squeeze-excitation: GlobalAveragePool → Conv → Relu → Conv → HardSigmoid → Mul with the [N, C, H, W] tensor.
        Assert.Contains(mobilenet.Node, n => n.OpType == "Mul" && n.Input.Any(i => Producer(mobilenet, i) is { OpType: "HardSigmoid" } h
            && Producer(mobilenet, h.Input[0]) is { OpType: "Conv" } c2 && Producer(mobilenet, c2.Input[0]) is { OpType: "Relu" } r
            && Producer(mobilenet, r.Input[0]) is { OpType: "Conv" } c1 && Producer(mobilenet, c1.Input[0]) is { OpType: "GlobalAveragePool" }));
        Assert.Contains(mobilenet.Node, n => n.OpType == "Conv" && n.Attribute.Any(a => a.Name == "group" && a.I > 1));
        Assert.NotEmpty(mobilenet.Initializer);

        var constants = Proto("fashion_mobilenetv3_constants");
        Assert.Empty(constants.Initializer);
        Assert.Equal(mobilenet.Node.Count(n => n.OpType == "Conv"), constants.Node.Count(n => n.OpType == "Conv"));
        Assert.All(constants.Node.Where(n => n.OpType == "Conv"), n => Assert.Equal("Constant", Producer(constants, n.Input[1])?.OpType));

        var segmenter = Proto("fashion_segmenter");
        var modes = segmenter.Node.Where(n => n.OpType == "Resize").Select(n => n.Attribute.Single(a => a.Name == "mode").S.ToStringUtf8()).Order().ToArray();
        Assert.Equal(["linear", "nearest"], modes);
        Assert.Contains(segmenter.Node, n => n.OpType == "ConvTranspose");
        Assert.Equal(2, segmenter.Node.Count(n => n.OpType == "Concat"));
        Assert.Equal("Sigmoid", Producer(segmenter, segmenter.Output.Single().Name)?.OpType);

        var transformer = Proto("fashion_transformer");
        var initializers = transformer.Initializer.Select(i => i.Name).ToHashSet();
        bool Computed(string value) => !initializers.Contains(value) && Producer(transformer, value) is { OpType: not "Constant" };
        // Q·Kᵀ and attention·V per block: MatMuls of two computed tensors; and Softmax, and LayerNorm written out.
        Assert.Equal(4, transformer.Node.Count(n => n.OpType == "MatMul" && Computed(n.Input[0]) && Computed(n.Input[1])));
        Assert.Equal(2, transformer.Node.Count(n => n.OpType == "Softmax"));
        foreach (var op in new[] { "ReduceMean", "Sub", "Pow", "Sqrt", "Div", "Tanh" })
            Assert.Contains(transformer.Node, n => n.OpType == op);
        Assert.DoesNotContain(transformer.Node, n => n.OpType == "LayerNormalization");

        var audio = Proto("fashion_audio1d");
        Assert.Equal(["batch", "28", "steps"], Dims(audio.Input.Single()));
        Assert.Equal(["batch", "10", "steps"], Dims(audio.Output.Single()));
        Assert.All(audio.Node.Where(n => n.OpType == "Conv"), n => Assert.Equal(3, audio.Initializer.Single(i => i.Name == n.Input[1]).Dims.Count));
    }

    internal static GraphProto Proto(string name) => ModelProto.Parser.ParseFrom(File.ReadAllBytes(RealModelPaths.Fashion(name))).Graph;

    private static NodeProto? Producer(GraphProto graph, string value) => graph.Node.FirstOrDefault(n => n.Output.Contains(value));

    private static string[] Dims(ValueInfoProto value) =>
        value.Type.TensorType.Shape.Dim.Select(d => d.HasDimParam ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    private static double RelativeError(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = expected.Max(MathF.Abs);
        return Conformance.TensorComparison.MaxRelativeError(expected, actual, Math.Max(scale * 1e-2f, 1e-3f));
    }
}
