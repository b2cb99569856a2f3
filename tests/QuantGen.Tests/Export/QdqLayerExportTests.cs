using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Onnx.Export;
using QuantGen.Tests.Generator;
using Xunit.Abstractions;

namespace QuantGen.Tests.Export;

/// <summary>
/// The exporter on the hand-built one-layer artifacts of the kernel tests: the layer features the Fashion models do not
/// have (clamps narrower than u8 as Clip, fused LeakyRelu as PRelu, grouped, depthwise, dilated, strided and
/// asymmetrically padded Conv, FullyConnected on several rows, Reshape), run by ONNX Runtime against the simulator.
/// </summary>
public sealed class QdqLayerExportTests(ITestOutputHelper output)
{
    public static TheoryData<string> Cases => new(AllCases().Keys);

    private static Dictionary<string, RandomLayerArtifacts.Case> AllCases() => new[]
    {
        RandomLayerArtifacts.Conv("conv_3x3_pad", 4, 8, 9, 9, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, leaky: false, forceNchw: true),
        RandomLayerArtifacts.Conv("conv_stride_dilation_asym_pad", 4, 6, 11, 10, 8, 3, 2, 2, 1, 0, 1, 2, 0, 2, 1, 1, leaky: false, forceNchw: true),
        RandomLayerArtifacts.Conv("conv_grouped_leaky", 4, 8, 7, 7, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, leaky: true, forceNchw: true),
        RandomLayerArtifacts.Conv("conv_depthwise", 4, 16, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, leaky: false, forceNchw: true),
        RandomLayerArtifacts.ConvThenMaxPool("conv_maxpool", 4, 8, 8, 8, 16, 3, 1, 1, leaky: false, negativeMultiplier: false),
        RandomLayerArtifacts.FullyConnected("fc_rows", 4, 3, 40, 24, leaky: false),
        RandomLayerArtifacts.FullyConnected("fc_leaky", 4, 1, 64, 16, leaky: true),
        // Not PoolingAndAdd: its Add and AveragePool multipliers are unrelated to its tensors' scales (one even
        // negative), and the export writes the tensors' scales, as the quantizer's multipliers encode them.
    }.ToDictionary(c => c.Name);

    [Theory]
    [MemberData(nameof(Cases))]
    public void OnnxRuntimeAgreesWithTheSimulatorWithinOneStep(string name)
    {
        var testCase = AllCases()[name];
        var artifact = ArtifactText.Read(testCase.Text);
        var simulator = new IntegerSimulator(artifact);
        using var session = new InferenceSession(QdqExporter.Export(artifact), new SessionOptions { IntraOpNumThreads = 1 });
        var outTensor = artifact.Layers.Single(l => l.Kind == LayerKinds.Dequantize).Inputs[0];
        float lsb = artifact.GetTensor(outTensor).Scale;
        var shape = artifact.GetTensor("x").Shape.AsArray();
        int maxLsb = 0, differing = 0, total = 0;
        foreach (var input in testCase.Inputs)
        {
            // QuantizeLinear of NaN is unspecified for uint8 in ONNX (QuantGen maps it to the zero point): not compared.
            var x = input.Select(v => float.IsNaN(v) ? 0f : v).ToArray();
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("x", new DenseTensor<float>(x, shape))]);
            var actual = results.Single().AsTensor<float>().ToArray();
            for (int i = 0; i < expected.Length; i++)
            {
                int delta = (int)Math.Round(Math.Abs(expected[i] - actual[i]) / lsb);
                maxLsb = Math.Max(maxLsb, delta);
                if (delta != 0) differing++;
                total++;
            }
        }
        output.WriteLine($"{name}: max |Δ| {maxLsb} LSB, {differing} of {total} outputs differ");
        Assert.True(maxLsb <= 1, $"{name}: max |Δ| {maxLsb} LSB");
    }
}
