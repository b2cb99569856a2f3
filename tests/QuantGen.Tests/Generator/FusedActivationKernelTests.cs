using Microsoft.CodeAnalysis.CSharp;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Tests.Quantization;
using Xunit.Abstractions;

namespace QuantGen.Tests.Generator;

/// <summary>
/// The packed kernels with a fused LeakyRelu (ConvNhwc, FullyConnectedPacked), clamps from Max/Min and size-1 Transposes
/// compute exactly what the integer simulator computes, compiled as C# 9, on small synthetic models.
/// </summary>
public sealed class FusedActivationKernelTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("conv_leaky_max", "ConvNhwc(")]
    [InlineData("gemm_leaky_min", "FullyConnectedPacked(")]
    [InlineData("nhwc_conv_relu_max", "ConvNhwc(")]
    public void GeneratedKernelsMatchTheSimulatorBitForBit(string name, string kernel)
    {
        var (model, shape) = FusedActivationTests.Synthetic(name);
        // The default pipeline: equalization makes the Gemm's bound per channel (clampHigh) on top of the leaky slope.
        var artifact = ModelQuantizer.Quantize(model, new QuantizationOptions(), new SyntheticModels(40).Calibration(shape, 64, -2, 2),
            [new ArtifactMetadata("source", $"Models/{model.Path}")]).Artifact;
        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))],
            GeneratedCodeTests.Options(path, "Model"), LanguageVersion.CSharp9);
        var (assembly, run) = GeneratorHarness.Build(GeneratorHarness.Compilation(Probe, LanguageVersion.CSharp9), driver);
        Assert.Contains(run.GeneratedTrees, t => t.ToString().Contains("QuantGenKernels." + kernel, StringComparison.Ordinal));
        var probe = assembly.GetType("Probe")!.GetMethod("Run")!.CreateDelegate<Func<float[], float[]>>();

        var simulator = new IntegerSimulator(artifact);
        var data = new SyntheticModels(41);
        int size = shape.Aggregate(1, (a, d) => a * d), checkedValues = 0;
        for (int i = 0; i < 200; i++)
        {
            // Wider than the calibration range, so the clamps and both slopes are all reached.
            var x = data.Uniform(size, -3, 3);
            var expected = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            Assert.Equal(expected, probe(x));
            checkedValues += expected.Length;
        }
        output.WriteLine($"{name}: {checkedValues} outputs bit-identical to the simulator ({kernel.TrimEnd('(')})");
    }

    /// <summary>Runs Demo.Models.Model (the class name the tests give their one model) on an array.</summary>
    internal const string Probe = """
        public static class Probe
        {
            private static readonly Demo.Models.Model Model = new Demo.Models.Model();

            public static float[] Run(float[] input)
            {
                var output = new float[Demo.Models.Model.OutputLength];
                Model.Run(input, output);
                return output;
            }
        }
        """;
}
