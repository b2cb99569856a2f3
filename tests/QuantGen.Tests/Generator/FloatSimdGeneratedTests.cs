using Microsoft.CodeAnalysis.CSharp;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.Kernels;
using QuantGen.Tests.Quantization;
using QuantGen.Tests.RealModels;
using Xunit.Abstractions;
using static QuantGen.Tests.Quantization.SyntheticModels;

namespace QuantGen.Tests.Generator;

/// <summary>
/// The float kernels' SIMD paths (QuantGenFloatKernels.Simd.cs) in generated classes: the same class run with its
/// QuantGenKernels.SimdEnabled on and off gives the same bits, and those equal the integer simulator's (which runs the
/// float layers through the reference operators, or through the very kernels where they compute their own functions:
/// the transcendental ones, Softmax, GlobalAveragePool, ReduceMean/ReduceMax and LayerNorm). Shapes
/// wide enough (8 columns and more) for the vector loops to run.
/// </summary>
[Collection(nameof(KernelTests))]
public sealed class FloatSimdGeneratedTests(ITestOutputHelper output)
{
    /// <summary>
    /// x [1,16,24] → Div by (|x| + c) (Abs, Add of a [24] constant, Div: elementwise float) → MatMul (quantized) → q;
    /// q · qᵀ, Softmax, · q (float MatMul of computed tensors, 16 and 24 columns) → a written-out LayerNorm over 24
    /// (one float LayerNormalization) → MatMul (quantized) → y [1,16,5].
    /// </summary>
    private static (Core.Ir.Model Model, int[] Shape) WideAttention()
    {
        var g = new SyntheticModels(21);
        g.Node("Abs", "abs", ["x"], "ax")
            .Node("Add", "plus", ["ax", g.Constant("c", [24], g.Uniform(24, 0.5f, 1.5f))], "den")
            .Node("Div", "div", ["x", "den"], "xn")
            .Node("MatMul", "proj", ["xn", g.Weights("wq", 24, 24)], "q")
            .Node("Transpose", "qt", ["q"], "k", Ints("perm", 0, 2, 1))
            .Node("MatMul", "scores", ["q", "k"], "sc")
            .Node("Softmax", "attn", ["sc"], "a", Int("axis", -1))
            .Node("MatMul", "mix", ["a", "q"], "v")
            .Node("ReduceMean", "ln_mean", ["v"], "m", Ints("axes", -1))
            .Node("Sub", "ln_sub", ["v", "m"], "d")
            .Node("Pow", "ln_pow", ["d", g.Constant("two", [], [2f])], "d2")
            .Node("ReduceMean", "ln_var", ["d2"], "var", Ints("axes", -1))
            .Node("Add", "ln_eps", ["var", g.Constant("eps", [], [1e-5f])], "ve")
            .Node("Sqrt", "ln_sqrt", ["ve"], "sd")
            .Node("Div", "ln_div", ["d", "sd"], "nrm")
            .Node("Mul", "ln_w", ["nrm", g.Constant("lnw", [24], g.Uniform(24, 0.5f, 1.5f))], "nw")
            .Node("Add", "ln_b", ["nw", g.Constant("lnb", [24], g.Uniform(24, -0.5f, 0.5f))], "ln")
            .Node("MatMul", "out", ["ln", g.Weights("wo", 24, 5)], "y");
        return (g.Build("wide_attention", [1, 16, 24], [1, 16, 5]), [1, 16, 24]);
    }

    [Fact]
    public void WideFloatIslandsGiveTheSameBitsWithAndWithoutSimd()
    {
        var (model, shape) = WideAttention();
        var artifact = ModelQuantizer.Quantize(model, new QuantizationOptions(), new SyntheticModels(40).Calibration(shape, 32, -2, 2)).Artifact;
        var kinds = artifact.Layers.Where(l => FloatLayers.IsFloat(l.Kind)).Select(l => l.Kind).ToList();
        output.WriteLine("float layers: " + string.Join(", ", kinds));
        Assert.Contains("Float.MatMul", kinds);
        Assert.Contains("Float.LayerNormalization", kinds);
        Assert.Contains("Float.Div", kinds);
        Check("wide_attention", artifact, "x", shape, exact: true, new SyntheticModels(44), -2, 2, 10);
    }

    /// <summary>
    /// x [1,16,24] → MatMul (quantized) → q; ReduceMean of q over axis 1 (an outer axis: 24 adjacent outputs, the
    /// 8-output vector path) and ReduceMax over axis 2 (the inner axis: rows of 24) as float layers; q − mean + max →
    /// MatMul (quantized) → y [1,16,5].
    /// </summary>
    [Fact]
    public void FloatReductionsGiveTheSameBitsWithAndWithoutSimd()
    {
        var g = new SyntheticModels(22);
        g.Node("MatMul", "proj", ["x", g.Weights("wq", 24, 24)], "q")
            .Node("ReduceMean", "mean", ["q"], "m", Ints("axes", 1))
            .Node("ReduceMax", "max", ["q"], "mx", Ints("axes", 2))
            .Node("Sub", "center", ["q", "m"], "d")
            .Node("Add", "lift", ["d", "mx"], "e")
            .Node("MatMul", "out", ["e", g.Weights("wo", 24, 5)], "y");
        var model = g.Build("reductions", [1, 16, 24], [1, 16, 5]);
        var artifact = ModelQuantizer.Quantize(model, new QuantizationOptions(), new SyntheticModels(41).Calibration([1, 16, 24], 32, -2, 2)).Artifact;
        var kinds = artifact.Layers.Where(l => FloatLayers.IsFloat(l.Kind)).Select(l => l.Kind).ToList();
        output.WriteLine("float layers: " + string.Join(", ", kinds));
        Assert.Contains("Float.ReduceMean", kinds);
        Assert.Contains("Float.ReduceMax", kinds);
        Check("reductions", artifact, "x", [1, 16, 24], exact: true, new SyntheticModels(47), -2, 2, 6);
    }

    /// <summary>
    /// The transformer test model (tests/models/fashion_transformer.onnx, calibrated on the Fashion set): its written-out
    /// LayerNorms (rows of the embedding width) are float LayerNormalization layers, whose mean and variance sum in the
    /// kernels' fixed order (QuantGenFloatKernels.Statistics.cs); the class with and without SIMD and the simulator
    /// give the same bits.
    /// </summary>
    [Fact]
    public void FashionTransformerGivesTheSameBitsWithAndWithoutSimd()
    {
        var artifact = GeneratedCodeTests.QuantizeFashion("fashion_transformer");
        var kinds = artifact.Layers.Where(l => FloatLayers.IsFloat(l.Kind)).Select(l => l.Kind).ToList();
        output.WriteLine("float layers: " + string.Join(", ", kinds));
        Assert.Contains("Float.LayerNormalization", kinds);
        Check("fashion_transformer", artifact, "image", [1, 1, 28, 28], exact: true, new SyntheticModels(46), -1, 2, 4);
    }

    /// <summary>
    /// openWakeWord's melspectrogram on a quarter second of audio (its Conv1d STFT is quantized): the power, the Log, the
    /// ReduceMax-relative floor (Sub of a broadcast one value, Clip) and a Cast run as float layers.
    /// </summary>
    [Fact]
    public void MelspectrogramGivesTheSameBitsWithAndWithoutSimd()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.WakeWord("melspectrogram"));
        var options = new QuantizationOptions
        {
            InputShapes = new Dictionary<string, int[]> { ["input"] = [1, 4000] },
            InputStatistics = new Dictionary<string, InputStatistics> { ["input"] = InputStatistics.Uniform(-1, 1) },
        };
        var artifact = ModelQuantizer.Quantize(model, options, null).Artifact;
        var kinds = artifact.Layers.Where(l => FloatLayers.IsFloat(l.Kind)).Select(l => l.Kind).ToList();
        output.WriteLine("float layers: " + string.Join(", ", kinds));
        Assert.Contains("Float.Sub", kinds);
        Assert.Contains("Float.Clip", kinds);
        Check("melspectrogram", artifact, "input", [1, 4000], exact: true, new SyntheticModels(45), -1, 1, 3);
    }

    private void Check(string name, QuantizedArtifact artifact, string input, int[] shape, bool exact, SyntheticModels data, float lo, float hi, int runs)
    {
        var path = $"/project/obj/quantgen/{name}.qgart";
        var driver = GeneratorHarness.Driver([new GeneratorHarness.InMemoryText(path, ArtifactText.Write(artifact))], GeneratedCodeTests.Options(path, "Model"), LanguageVersion.CSharp9);
        var (assembly, _) = GeneratorHarness.Build(GeneratorHarness.Compilation(Probe, LanguageVersion.CSharp9), driver);
        var probe = assembly.GetType("Probe")!.GetMethod("Run")!.CreateDelegate<Func<float[], bool, float[]>>();
        var simulator = new IntegerSimulator(artifact);
        int size = shape.Aggregate(1, (a, d) => a * d), identical = 0, count = 0;
        for (int r = 0; r < runs; r++)
        {
            var x = data.Uniform(size, lo, hi);
            var simd = probe(x, true);
            var scalar = probe(x, false);
            Assert.Equal(scalar.Length, simd.Length);
            for (int i = 0; i < simd.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(simd[i]) == BitConverter.SingleToInt32Bits(scalar[i]), $"{name}: output {i} is {simd[i]:R} with SIMD, {scalar[i]:R} without");
            var expected = simulator.Run(new Dictionary<string, float[]> { [input] = x }).Values.Single();
            if (exact) Assert.Equal(expected, simd);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - simd[i]) <= 1e-5 * Math.Abs(expected[i]) + 1e-6, $"{name}: output {i} is {simd[i]:R}, the simulator gives {expected[i]:R}");
                if (expected[i] == simd[i]) identical++;
            }
            count += expected.Length;
        }
        output.WriteLine($"{name}: SIMD and scalar classes bit-identical; {identical} of {count} outputs bit-identical to the simulator");
    }

    /// <summary>Runs Demo.Models.Model on an array with the kernels' SIMD paths on or off.</summary>
    private const string Probe = """
        public static class Probe
        {
            private static readonly Demo.Models.Model Model = new Demo.Models.Model();

            public static float[] Run(float[] input, bool simd)
            {
                var output = new float[Demo.Models.Model.OutputLength];
                QuantGen.Generated.QuantGenKernels.SimdEnabled = simd;
                try
                {
                    Model.Run(input, output);
                }
                finally
                {
                    QuantGen.Generated.QuantGenKernels.SimdEnabled = true;
                }
                return output;
            }
        }
        """;
}
