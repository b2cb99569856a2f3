using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Core.Training;

namespace QuantGen.Tests.Training;

/// <summary>
/// Every layer kind's backward rule against central finite differences of its forward in double precision. Each op
/// is fed by a 1×1 conv (or a fully connected layer), so the op's input gradient is checked through that layer's
/// weight and bias gradients; the loss is a random linear probe Σ r·y of the output.
/// </summary>
public sealed class GradientTests
{
    [Fact]
    public void ConvWithStridePadsDilationAndRelu6()
    {
        var b = new Net(4, 7, 6);
        var conv = b.Conv("conv", 5, kernel: [3, 2], strides: [2, 1], pads: [1, 0, 2, 1], dilations: [2, 1]);
        conv.ClampMin = 0;
        conv.ClampMax = 1.5f;
        b.Check();
    }

    [Fact]
    public void DepthwiseConvWithLeakyReluAndPerChannelBounds()
    {
        var b = new Net(4, 6, 6);
        var conv = b.Conv("dw", 8, kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], group: 4);
        conv.LeakyAlpha = 0.1f;
        conv.ChannelClampMax = [1, 2, 0.5f, 3, 1, 2, 0.7f, 4];
        b.Check();
    }

    [Fact]
    public void GroupedConv() => new Net(4, 5, 5).Then(b => b.Conv("grouped", 6, kernel: [2, 2], strides: [1, 2], pads: [0, 1, 0, 1], group: 2)).Check();

    [Fact]
    public void FullyConnectedOverRows()
    {
        var b = Net.Rows(3, 5);
        b.FullyConnected("fc", 4).ClampMin = 0;
        b.Check();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AddAndSubtractOfTwoBranches(bool subtract)
    {
        var b = new Net(3, 4, 4);
        string first = b.Last;
        b.Conv("other", 3, kernel: [1, 1], input: first);
        var add = b.Layer(LayerKinds.Add, "add", [first, b.Last]);
        add.Subtract = subtract;
        add.ClampMin = 0;
        b.Check();
    }

    [Fact]
    public void MulBroadcastsTheSecondInputOverThePlane()
    {
        var b = new Net(4, 3, 3);
        string x = b.Last;
        b.Layer(LayerKinds.AveragePool, "gap", [x], [1, 4, 1, 1], l => l.Kernel = [3, 3]);
        b.Conv("gate", 4, kernel: [1, 1]).Then(l => { l.ClampMin = 0; l.ClampMax = 1; });
        b.Layer(LayerKinds.Mul, "mul", [x, b.Last], l => l.BroadcastInner = 9);
        b.Check();
    }

    public static TheoryData<string> Functions() => ["Sigmoid", "Tanh", "Swish", "HardSwish", "DecomposedHardSigmoid", "HardSigmoid", "GatedHardSigmoid", "LeakyRelu", "Clip"];

    [Theory]
    [MemberData(nameof(Functions))]
    public void LookupFunctions(string name)
    {
        var function = name switch
        {
            "Sigmoid" => LookupFunction.Sigmoid,
            "Tanh" => LookupFunction.Tanh,
            "Swish" => LookupFunction.Swish,
            "HardSwish" => LookupFunction.HardSwish,
            "DecomposedHardSigmoid" => LookupFunction.DecomposedHardSigmoid,
            "HardSigmoid" => LookupFunction.HardSigmoid(0.2f, 0.5f),
            "GatedHardSigmoid" => LookupFunction.GatedHardSigmoid(0.25f, 0.4f),
            "LeakyRelu" => LookupFunction.LeakyRelu(0.1f),
            _ => LookupFunction.Clip(-1, 2),
        };
        // Inputs spread over [−6, 6] so every piece of the piecewise functions is hit.
        var b = new Net(3, 4, 4, inputScale: 6);
        b.Layer(LayerKinds.Lookup, "f", [b.Last], l => l.Function = function);
        b.Conv("after", 2, kernel: [1, 1]);
        b.Check();
    }

    [Fact]
    public void AffinePerChannel()
    {
        var b = new Net(3, 4, 4);
        b.Layer(LayerKinds.Affine, "affine", [b.Last], l =>
        {
            l.AffineScale = [0.5f, -2, 1.5f];
            l.AffineOffset = [0.1f, 0.2f, -0.3f];
            l.BroadcastChannels = 3;
            l.BroadcastInner = 16;
        });
        b.Conv("after", 2, kernel: [1, 1]);
        b.Check();
    }

    [Theory]
    [InlineData(LayerKinds.MaxPool, false)]
    [InlineData(LayerKinds.AveragePool, false)]
    [InlineData(LayerKinds.AveragePool, true)]
    public void Pooling(string kind, bool countIncludePad)
    {
        var b = new Net(3, 7, 7);
        b.Layer(kind, "pool", [b.Last], [1, 3, 4, 4], l =>
        {
            l.Kernel = [3, 3];
            l.Strides = [2, 2];
            l.Pads = [1, 1, 1, 1];
            l.CountIncludePad = countIncludePad;
        });
        b.Check();
    }

    [Fact]
    public void GlobalAveragePoolFlattenFullyConnectedSoftmax()
    {
        var b = new Net(4, 5, 5);
        b.Layer(LayerKinds.AveragePool, "gap", [b.Last], [1, 4, 1, 1], l => l.Kernel = [5, 5]);
        b.Layer(LayerKinds.Reshape, "flatten", [b.Last], [1, 4]);
        b.FullyConnected("fc", 6);
        b.Layer(LayerKinds.Softmax, "softmax", [b.Last], [1, 6]);
        b.Check();
    }

    [Fact]
    public void SigmoidTail()
    {
        var b = new Net(2, 3, 3);
        b.Layer(LayerKinds.Reshape, "flatten", [b.Last], [1, 18]);
        b.FullyConnected("fc", 3);
        b.Layer(LayerKinds.Sigmoid, "sigmoid", [b.Last], [1, 3]);
        b.Check();
    }

    [Fact]
    public void ConcatAlongChannels()
    {
        var b = new Net(3, 4, 4);
        string x = b.Last;
        b.Conv("a", 2, kernel: [3, 3], pads: [1, 1, 1, 1], input: x);
        string a = b.Last;
        b.Conv("b", 5, kernel: [1, 1], input: x);
        b.Layer(LayerKinds.Concat, "concat", [a, b.Last], [1, 7, 4, 4], l => l.Axis = 1);
        b.Conv("after", 3, kernel: [1, 1]);
        b.Check();
    }

    [Fact]
    public void ForwardMatchesTheLayerExecutor()
    {
        var b = new Net(4, 7, 6);
        b.Conv("conv", 6, kernel: [3, 3], strides: [2, 1], pads: [1, 1, 1, 1], group: 2).ClampMin = 0;
        b.Layer(LayerKinds.MaxPool, "pool", [b.Last], [1, 6, 2, 3], l => { l.Kernel = [2, 2]; l.Strides = [2, 2]; });
        b.Layer(LayerKinds.Reshape, "flatten", [b.Last], [1, 36]);
        b.FullyConnected("fc", 5);
        b.Layer(LayerKinds.Softmax, "softmax", [b.Last], [1, 5]);
        var input = b.Input.Select(v => (float)v).ToArray();
        var expected = new LayerExecutor(b.Graph).Run(b.Layers, new Dictionary<string, float[]> { ["x"] = input })[b.Last];
        var actual = new TrainingGraph<float>(b.Graph, b.Layers, b.Last).Evaluate(new Dictionary<string, float[]> { ["x"] = input });
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal((double)expected[i], actual[i], 5);
    }

    /// <summary>A small layer graph on one NCHW (or [rows, K]) input, built op by op, with its finite-difference check.</summary>
    internal sealed class Net
    {
        private readonly Random _random = new(20);

        public Net(int channels, int height, int width, double inputScale = 1)
            : this([1, channels, height, width], inputScale)
        {
            // The op under test reads a learnable 1×1 conv, so its input gradient is checked through that conv.
            Conv("lift", channels, kernel: [1, 1]);
        }

        private Net(int[] shape, double inputScale)
        {
            Graph.ValueInfos["x"] = new TensorInfo(DataType.Float, shape);
            Input = Enumerable.Range(0, shape.Aggregate(1, (a, d) => a * d)).Select(_ => (_random.NextDouble() * 2 - 1) * inputScale).ToArray();
            Last = "x";
        }

        public static Net Rows(int rows, int k)
        {
            var net = new Net([rows, k], 1);
            net.FullyConnected("lift", k);
            return net;
        }

        public Graph Graph { get; } = new();

        public List<FloatLayer> Layers { get; } = new();

        public double[] Input { get; }

        public string Last { get; private set; }

        public Net Then(Action<Net> build)
        {
            build(this);
            return this;
        }

        public FloatLayer Conv(string name, int m, int[] kernel, int[]? strides = null, int[]? pads = null, int[]? dilations = null, int group = 1, string? input = null)
        {
            input ??= Last;
            var inShape = Graph.ValueInfos[input].Shape;
            strides ??= [1, 1];
            pads ??= [0, 0, 0, 0];
            dilations ??= [1, 1];
            int oh = (inShape[2] + pads[0] + pads[2] - dilations[0] * (kernel[0] - 1) - 1) / strides[0] + 1;
            int ow = (inShape[3] + pads[1] + pads[3] - dilations[1] * (kernel[1] - 1) - 1) / strides[1] + 1;
            int fanIn = inShape[1] / group * kernel[0] * kernel[1];
            return Layer(LayerKinds.Conv, name, [input], [1, m, oh, ow], l =>
            {
                l.Weights = Random(m * fanIn, 1 / Math.Sqrt(fanIn) * 1.5);
                l.WeightShape = [m, inShape[1] / group, kernel[0], kernel[1]];
                l.Bias = Random(m, 0.3);
                l.Kernel = kernel;
                l.Strides = strides;
                l.Pads = pads;
                l.Dilations = dilations;
                l.Group = group;
            });
        }

        public FloatLayer FullyConnected(string name, int m)
        {
            var inShape = Graph.ValueInfos[Last].Shape;
            int k = inShape[^1], rows = inShape.Aggregate(1, (a, d) => a * d) / k;
            return Layer(LayerKinds.FullyConnected, name, [Last], [rows, m], l =>
            {
                l.Weights = Random(m * k, 1 / Math.Sqrt(k) * 1.5);
                l.WeightShape = [m, k];
                l.Bias = Random(m, 0.3);
            });
        }

        public FloatLayer Layer(string kind, string name, string[] inputs, Action<FloatLayer>? configure = null) =>
            Layer(kind, name, inputs, Graph.ValueInfos[inputs[0]].Shape, configure);

        public FloatLayer Layer(string kind, string name, string[] inputs, int[] outShape, Action<FloatLayer>? configure = null)
        {
            var layer = new FloatLayer(kind, name, inputs, name + "_out");
            configure?.Invoke(layer);
            Graph.ValueInfos[layer.Output] = new TensorInfo(DataType.Float, outShape);
            Layers.Add(layer);
            Last = layer.Output;
            return layer;
        }

        /// <summary>Every parameter's analytic gradient against (L(p + h) − L(p − h)) / 2h, L = Σ r·y over two samples (factorized layers trained as their factors when <paramref name="factors"/>).</summary>
        public void Check(bool factors = false)
        {
            var graph = new TrainingGraph<double>(Graph, Layers, Last, factors: factors);
            var second = Input.Select(v => -0.5 * v + 0.1).ToArray();
            var batch = new[] { Input, second }.Select(x => (IReadOnlyDictionary<string, double[]>)new Dictionary<string, double[]> { ["x"] = x }).ToArray();
            int outputs = Graph.ValueInfos[Last].ElementCount;
            var probe = Enumerable.Range(0, outputs).Select(_ => _random.NextDouble() * 2 - 1).ToArray();
            double Loss() => batch.Sum(x => graph.Evaluate(x).Zip(probe, (y, r) => y * r).Sum());
            var (loss, gradient) = graph.Gradient(batch, (_, _) => (0, probe), threads: 1);
            Assert.Equal(0, loss);
            Assert.True(gradient.Any(g => g.Any(v => v != 0)), "all gradients zero");
            for (int p = 0; p < graph.Parameters.Count; p++)
            {
                var values = graph.Parameters[p];
                for (int i = 0; i < values.Length; i++)
                {
                    double numeric = FiniteDifference.Central(values, i, Loss);
                    Assert.True(Math.Abs(numeric - gradient[p][i]) <= 1e-6 * (1 + Math.Abs(numeric)),
                        $"{graph.ParameterNames[p]}[{i}]: analytic {gradient[p][i]:R}, numeric {numeric:R}");
                }
            }
        }

        private float[] Random(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((_random.NextDouble() * 2 - 1) * scale)).ToArray();
    }
}

internal static class FloatLayerExtensions
{
    public static FloatLayer Then(this FloatLayer layer, Action<FloatLayer> configure)
    {
        configure(layer);
        return layer;
    }
}
