using Microsoft.CodeAnalysis.CSharp;
using QuantGen.Core.Artifact;
using QuantGen.Core.Execution;
using QuantGen.Core.Ir;
using QuantGen.Core.Passes;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.Factorization;
using QuantGen.Tests.Generator;
using QuantGen.Tests.Quantization;
using Xunit.Abstractions;

namespace QuantGen.Tests.Factorization;

/// <summary>
/// A Conv with a fused LeakyRelu and Max floor (openWakeWord's blocks in miniature) built factorized: the quantizer
/// factorizes it (such layers used to stay plain) and gives the FactorizedConv the plain kinds' negative-slope
/// multipliers and floor; the generated class (C# 9, with and without intrinsics) equals the simulator bit for bit on
/// inputs that drive the slope. FactorizedKernelTests and FactorizedConvKernelTests check the arithmetic itself.
/// </summary>
public sealed class FactorizedFusedActivationTests(ITestOutputHelper output)
{
    [Fact]
    public void ConvLeakyReluIsFactorizedWithItsNegativeSlopeAndMatchesTheGeneratedClass()
    {
        var model = SyntheticModels.ConvLeakyMax();
        var calibration = new SyntheticModels(40).Calibration([1, 2, 6, 5], 64, -2, 2);
        // conv1 W [4, 18] at rank 4 and 3 bits: 65 bytes against 72 plain, so it is factorized; conv2 (3 outputs) stays plain.
        var options = new QuantizationOptions { Compression = WeightCompression.Factorized, FactorRank = 4, FactorBits = 3 };
        var artifact = ModelQuantizer.Quantize(model, options, calibration, [new ArtifactMetadata("source", "Models/conv_leaky_max.onnx")]).Artifact;
        Assert.Equal([LayerKinds.Quantize, LayerKinds.FactorizedConv, LayerKinds.Conv, LayerKinds.Dequantize], artifact.Layers.Select(l => l.Kind));

        var conv = artifact.Layers[1];
        int[] m = conv.GetBlob("multiplier").Values.AsArray(), s = conv.GetBlob("shift").Values.AsArray();
        int[] nm = conv.GetBlob("negMultiplier").Values.AsArray(), ns = conv.GetBlob("negShift").Values.AsArray();
        for (int o = 0; o < m.Length; o++)
            Assert.InRange(FixedPoint.Decode(nm[o], ns[o]) / FixedPoint.Decode(m[o], s[o]), 0.2f * (1 - 1e-6), 0.2f * (1 + 1e-6));
        // The Max(−0.4) is the clamp's lower bound on the output grid, as for a plain Conv.
        var grid = artifact.GetTensor(conv.Outputs[0]);
        Assert.Equal(Math.Max(0, (int)Math.Round(-0.4f / grid.Scale) + grid.ZeroPoint), conv.GetInts("clamp")[0]);

        var path = "/project/obj/quantgen/conv_leaky_max.qgart";
        var text = ArtifactText.Write(artifact);
        var simulator = new IntegerSimulator(artifact);
        var executor = new ReferenceExecutor(ModelPreparation.Prepare(model));
        var prepared = ModelPreparation.Prepare(model);
        foreach (bool intrinsics in new[] { true, false })
        {
            var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, text)], GeneratedCodeTests.Options(path, "Model"), LanguageVersion.CSharp9);
            var compilation = GeneratorHarness.Compilation(FactorizedKernelTests.Probe, LanguageVersion.CSharp9, intrinsics);
            driver.RunGeneratorsAndUpdateCompilation(compilation, out var generated, out _);
            var problems = generated.GetDiagnostics().Where(d => d.Severity >= Microsoft.CodeAnalysis.DiagnosticSeverity.Warning).ToList();
            Assert.True(problems.Count == 0, string.Join("\n", problems));
            var run = GeneratorHarness.Build(compilation, driver).Assembly.GetType("Probe")!.GetMethod("Run")!.CreateDelegate<Func<float[], float[]>>();
            for (int i = 0; i < 20; i++)
            {
                var x = calibration.Sample(prepared.Graph, i)["x"].ToArray<float>();
                Assert.Equal(simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"], run(x));
            }
        }

        // The factorized model still follows the float model (3-bit factors: a loose bar), on inputs whose outputs go
        // negative (conv2's slope; conv1's is checked above by its multipliers and by the kernel tests).
        var reference = new List<float>();
        var quantized = new List<float>();
        int belowZero = 0;
        for (int i = 0; i < 40; i++)
        {
            var x = calibration.Sample(prepared.Graph, i)["x"].ToArray<float>();
            reference.AddRange(executor.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray([1, 2, 6, 5], x) })["y"].ToArray<float>());
            var y = simulator.Run(new Dictionary<string, float[]> { ["x"] = x })["y"];
            quantized.AddRange(y);
            belowZero += y.Count(v => v < 0);
        }
        double sqnr = Sqnr.Of(reference.ToArray(), quantized.ToArray());
        output.WriteLine($"factorized conv_leaky_max: output SQNR {sqnr:F1} dB against float, {belowZero} negative outputs");
        Assert.True(belowZero > 0, "no negative output: the negative slope was never exercised");
        Assert.True(sqnr > SqnrBar, $"output SQNR {sqnr:F1} dB");
    }

    /// <summary>Measured 12.3 dB (3-bit rank-4 factors of conv1, W8 conv2, 64 calibration samples).</summary>
    private const double SqnrBar = 9;
}
