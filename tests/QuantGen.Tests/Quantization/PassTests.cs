using QuantGen.Core;
using QuantGen.Core.Artifact;
using QuantGen.Core.IO;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Onnx;
using QuantGen.Tests.RealModels;

namespace QuantGen.Tests.Quantization;

/// <summary>Each post-training pass on its own: what it must preserve and what it must improve.</summary>
public sealed class PassTests
{
    private static readonly Lazy<Tensor> Calibration = new(() => Npy.Read(Path.Combine(TestPaths.RepoRoot, "tests", "models", "fashion_calibration.npy")));

    /// <summary>The prepared graph and its layer list (BN folded), as the quantizer builds them.</summary>
    private static (Graph Graph, List<FloatLayer> Layers, Dictionary<FloatLayer, FoldedBatchNorm> BatchNorms) Layers(string model)
    {
        var prepared = QuantizationPreparation.Prepare(OnnxModelLoader.Load(RealModelPaths.Fashion(model)), new QuantizationOptions());
        var (layers, batchNorms, _) = LayerGraphBuilder.Build(prepared.Graph, null);
        return (prepared.Graph, layers, batchNorms);
    }

    private static float[] Image(int index) => Calibration.Value.AsSpan<float>().Slice(index * 784, 784).ToArray();

    [Theory]
    [InlineData("fashion_mobilenet")]
    [InlineData("fashion_cnn_bn")]
    [InlineData("fashion_mlp")]
    public void EqualizationLeavesTheFloatFunctionUnchangedAndNarrowsChannelRanges(string model)
    {
        var (graph, layers, batchNorms) = Layers(model);
        var executor = new LayerExecutor(graph);
        var output = graph.Outputs[0].Name;
        var before = Enumerable.Range(0, 8).Select(i => executor.Run(layers, new Dictionary<string, float[]> { ["image"] = Image(i) })[output]).ToArray();
        var pairs = LayerPair.Find(layers, graph);
        Assert.NotEmpty(pairs);
        var spreadBefore = pairs.Select(p => Spread(p.First)).ToArray();

        int sweeps = CrossLayerEqualization.Apply(pairs, batchNorms);

        Assert.InRange(sweeps, 1, 100);
        for (int i = 0; i < before.Length; i++)
        {
            var after = executor.Run(layers, new Dictionary<string, float[]> { ["image"] = Image(i) })[output];
            float scale = before[i].Max(MathF.Abs);
            for (int j = 0; j < after.Length; j++)
                Assert.True(MathF.Abs(after[j] - before[i][j]) <= 1e-5f * scale, $"{model} sample {i} output {j}: {after[j]} vs {before[i][j]}");
        }
        // The first layer of each pair ends with per-channel ranges sqrt(r1·r2): their max/min spread shrinks overall.
        var spreadAfter = pairs.Select(p => Spread(p.First)).ToArray();
        Assert.True(spreadAfter.Sum() < spreadBefore.Sum(), $"{model}: spread {spreadBefore.Sum():F1} → {spreadAfter.Sum():F1}");
        // Converged: every coupled channel has equal ranges on both sides.
        Assert.True(sweeps < 100, $"{model}: no convergence");
        foreach (var pair in pairs)
            for (int c = 0; c < pair.Channels; c++)
            {
                float r1 = pair.FirstRange(c), r2 = pair.SecondRange(c);
                if (r1 > 0 && r2 > 0) Assert.Equal(1.0, r1 / r2, 3);
            }
    }

    private static double Spread(FloatLayer layer)
    {
        var (min, max) = LayerLog.ChannelRanges(layer);
        return Math.Log(max / Math.Max(min, 1e-12f));
    }

    [Fact]
    public void EqualizedReluSixKeepsPerChannelBoundsInTheIntegerModel()
    {
        var (graph, layers, batchNorms) = Layers("fashion_mobilenet");
        CrossLayerEqualization.Apply(LayerPair.Find(layers, graph), batchNorms);
        Assert.Contains(layers, l => l.ChannelClampMax is { } b && b.Distinct().Count() > 1);

        // ... and the artifact carries them (the generator tests check generated code equals the simulator on this model).
        var artifact = ModelQuantizer.Quantize(OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_mobilenet")), new QuantizationOptions { InputStatistics = InputStatistics.Parse("0,1", null, null) }, null).Artifact;
        Assert.Contains(artifact.Layers, l => l.Blobs.Any(b => b.Key == "clampHigh"));
    }

    [Fact]
    public void HighBiasAbsorptionMovesBiasIntoTheNextLayerAndKeepsOutputsClose()
    {
        var (graph, layers, batchNorms) = Layers("fashion_cnn_bn");
        var executor = new LayerExecutor(graph);
        var output = graph.Outputs[0].Name;
        var pairs = LayerPair.Find(layers, graph);
        CrossLayerEqualization.Apply(pairs, batchNorms);
        // The trained BN shifts are small (β − 3γ < 0 everywhere), so nothing would move: raise conv2's shift so most
        // of each channel's distribution sits above zero, and check absorption preserves that (new) function.
        var exact = pairs.Single(p => p.ShiftIsExact);
        var bn = batchNorms[exact.First];
        for (int c = 0; c < exact.Channels; c++)
        {
            float raise = 4 * MathF.Abs(bn.Gamma[c]);
            exact.First.Bias![c] += raise;
            bn.Beta[c] += raise;
        }
        var before = Enumerable.Range(0, 16).Select(i => executor.Run(layers, new Dictionary<string, float[]> { ["image"] = Image(i) })[output]).ToArray();
        var biasBefore = exact.First.Bias!.ToArray();

        int moved = HighBiasAbsorption.Apply(pairs, batchNorms);

        // Only exact pairs take part (no zero padding in the second layer): in this CNN that is conv2 → fc through pool + flatten.
        Assert.Equal(exact.Channels, moved);
        Assert.All(Enumerable.Range(0, exact.Channels), c => Assert.True(exact.First.Bias![c] < biasBefore[c]));
        double error = 0, signal = 0;
        for (int i = 0; i < before.Length; i++)
        {
            var after = executor.Run(layers, new Dictionary<string, float[]> { ["image"] = Image(i) })[output];
            for (int j = 0; j < after.Length; j++) { error += Math.Pow(after[j] - before[i][j], 2); signal += Math.Pow(before[i][j], 2); }
        }
        // β − 3γ is exceeded by ~99.9% of a Gaussian's mass: outputs move, but little.
        Assert.True(10 * Math.Log10(signal / Math.Max(error, 1e-30)) > 30, $"SQNR after absorption {10 * Math.Log10(signal / error):F1} dB");
    }

    [Fact]
    public void EmpiricalBiasCorrectionZeroesTheMeanOutputErrorPerChannel()
    {
        // A fully connected layer, 3-bit weights, inputs with a non-zero mean and a quantized copy carrying its own bias.
        var random = new Random(7);
        int m = 12, k = 40, rows = 500;
        var layer = new FloatLayer(LayerKinds.FullyConnected, "fc", ["x"], "y") { WeightShape = [m, k] };
        layer.Weights = Enumerable.Range(0, m * k).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        layer.Bias = Enumerable.Range(0, m).Select(_ => (float)random.NextDouble()).ToArray();
        var x = Enumerable.Range(0, rows * k).Select(_ => (float)(random.NextDouble() * 2 + 0.5)).ToArray();
        var xq = x.Select(v => v + 0.05f + (float)(random.NextDouble() - 0.5) * 0.1f).ToArray();
        var scales = RangeSetting.WeightScales(layer.Weights, m, 3, true, RangeMethod.MinMax);
        var wq = WeightQuantizer.Dequantize(WeightQuantizer.RoundToNearest(layer.Weights, scales, 3), scales);
        var originalBias = layer.Bias.ToArray();
        double[] MeanRow(float[] data) => Enumerable.Range(0, k).Select(i => Enumerable.Range(0, rows).Average(r => (double)data[r * k + i])).ToArray();
        double MeanError(int o, float[] bias) => Enumerable.Range(0, rows).Average(r =>
            Enumerable.Range(0, k).Sum(i => (double)wq[o * k + i] * xq[r * k + i]) + bias[o]
            - (Enumerable.Range(0, k).Sum(i => (double)layer.Weights[o * k + i] * x[r * k + i]) + originalBias[o]));
        double before = Enumerable.Range(0, m).Max(o => Math.Abs(MeanError(o, originalBias)));

        BiasCorrection.Empirical(layer, layer.Weights, wq, [MeanRow(x)], [MeanRow(xq)]);

        Assert.True(before > 0.05, $"the set-up should start with a visible mean error ({before})");
        for (int o = 0; o < m; o++) Assert.True(Math.Abs(MeanError(o, layer.Bias)) < 1e-4, $"channel {o}: mean error {MeanError(o, layer.Bias)}");
    }

    [Fact]
    public void AnalyticBiasCorrectionUsesTheClippedNormalMeanOfTheInput()
    {
        // Inputs ReLU(N(β, γ²)) per channel: the analytic correction (from β, γ only) must remove most of the mean error measured on samples.
        var random = new Random(3);
        int m = 8, k = 16, rows = 20000;
        var beta = Enumerable.Range(0, k).Select(i => (float)(i % 4 - 1)).ToArray();
        var gamma = Enumerable.Range(0, k).Select(i => 0.5f + i % 3).ToArray();
        var layer = new FloatLayer(LayerKinds.FullyConnected, "fc", ["x"], "y") { WeightShape = [m, k] };
        layer.Weights = Enumerable.Range(0, m * k).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        layer.Bias = new float[m];
        var scales = RangeSetting.WeightScales(layer.Weights, m, 3, true, RangeMethod.MinMax);
        var wq = WeightQuantizer.Dequantize(WeightQuantizer.RoundToNearest(layer.Weights, scales, 3), scales);
        var x = new float[rows * k];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < k; i++)
            {
                double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                x[r * k + i] = MathF.Max(0, beta[i] + gamma[i] * (float)normal);
            }
        double MeanError(int o) => Enumerable.Range(0, rows).Average(r => Enumerable.Range(0, k).Sum(i => (double)(wq[o * k + i] - layer.Weights[o * k + i]) * x[r * k + i])) + layer.Bias[o];
        double before = Enumerable.Range(0, m).Sum(o => Math.Abs(MeanError(o)));
        var expected = Enumerable.Range(0, k).Select(i => ClippedNormal.Moments(beta[i], gamma[i], 0, double.PositiveInfinity).Mean).ToArray();

        BiasCorrection.Analytic(layer, layer.Weights, wq, expected, [1, k], [1, m]);

        double after = Enumerable.Range(0, m).Sum(o => Math.Abs(MeanError(o)));
        Assert.True(after < 0.1 * before, $"mean |error| {before:F4} → {after:F4}");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(3)]
    public void MseWeightRangesNeverLoseToMinMax(int bits)
    {
        var (_, layers, _) = Layers("fashion_cnn");
        foreach (var layer in layers.Where(l => l.Weights is not null))
        {
            double Error(RangeMethod method)
            {
                var scales = RangeSetting.WeightScales(layer.Weights!, layer.OutputChannels, bits, true, method);
                var w = WeightQuantizer.Dequantize(WeightQuantizer.RoundToNearest(layer.Weights!, scales, bits), scales);
                return layer.Weights!.Zip(w).Sum(p => Math.Pow(p.First - p.Second, 2));
            }
            double mse = Error(RangeMethod.Mse), minMax = Error(RangeMethod.MinMax);
            Assert.True(mse <= minMax, $"{layer.Name}: MSE {mse} > min-max {minMax}");
            Assert.True(mse < 0.95 * minMax, $"{layer.Name}: at {bits} bits clipping should pay ({mse} vs {minMax})");
        }
    }

    [Fact]
    public void ActivationRangeMethodsClipOutliers()
    {
        // A long-tailed (exponential) distribution: the rare largest values cost more resolution than their clipping error.
        var random = new Random(1);
        var values = Enumerable.Range(0, 100000).Select(_ => -MathF.Log(1 - (float)random.NextDouble())).ToArray();
        var minMax = RangeSetting.ActivationRange(values.ToArray(), 8, RangeMethod.MinMax);
        var mse = RangeSetting.ActivationRange(values.ToArray(), 8, RangeMethod.Mse);
        var percentile = RangeSetting.ActivationRange(values.ToArray(), 8, RangeMethod.Percentile);
        Assert.Equal(values.Max(), minMax.Max);
        Assert.True(mse.Max < minMax.Max, $"MSE keeps {mse.Max} of {minMax.Max}");
        // 99.99% of an exponential lies below ln(10^4) ≈ 9.2.
        Assert.InRange(percentile.Max, 8.0f, 10.5f);
        Assert.True(percentile.Max < minMax.Max);
        Assert.Equal(values.Min(), percentile.Min);

        double Error((float Min, float Max) range)
        {
            var grid = ActivationGrid.FromRange(range.Min, range.Max, 8);
            var q = grid.FakeQuantize(values);
            return values.Zip(q).Sum(p => Math.Pow(p.First - p.Second, 2));
        }
        Assert.True(Error(mse) < Error(minMax));
    }

    [Theory]
    [InlineData("cle;adaround;magic", "magic")]
    [InlineData("cle,,fast", "fast")]
    public void UnknownAlgorithmsAreOptionErrors(string text, string culprit)
    {
        var e = Assert.Throws<ModelException>(() => QuantizationOptions.ParseAlgorithms(text));
        Assert.Equal(ErrorCodes.InvalidOption, e.Code);
        Assert.Contains(culprit, e.Message);
    }

    [Fact]
    public void OptionsParseTheirDocumentedSpellings()
    {
        Assert.Equal(QuantizationAlgorithms.Cle | QuantizationAlgorithms.AdaRound, QuantizationOptions.ParseAlgorithms("adaround; CLE"));
        Assert.Equal(QuantizationAlgorithms.None, QuantizationOptions.ParseAlgorithms("none"));
        Assert.Null(QuantizationOptions.ParseAlgorithms("default"));
        Assert.Equal(RangeMethod.Percentile, QuantizationOptions.ParseRangeMethod("percentile"));
        Assert.Equal(ErrorCodes.InvalidOption, Assert.Throws<ModelException>(() => QuantizationOptions.ParseRangeMethod("kl")).Code);
        Assert.Equal(ErrorCodes.InvalidOption, Assert.Throws<ModelException>(() => QuantizationOptions.ParsePerChannel("yes")).Code);
        Assert.Equal(ErrorCodes.InvalidOption, Assert.Throws<ModelException>(() => QuantizationOptions.ParseIterations("0")).Code);
        Assert.Equal("cle;bias-absorption;adaround", QuantizationOptions.Format(new QuantizationOptions { WeightBits = 4 }.ResolveAlgorithms(true)));
        Assert.Equal("cle;bias-absorption;bias-correction", QuantizationOptions.Format(new QuantizationOptions().ResolveAlgorithms(false)));
    }

    [Fact]
    public void AdaRoundWithoutCalibrationDataIsAnOptionError()
    {
        var model = OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_mlp"));
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(model, new QuantizationOptions { Algorithms = QuantizationAlgorithms.AdaRound }, null));
        Assert.Equal(ErrorCodes.InvalidOption, e.Code);
        Assert.Contains("calibration", e.Message);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "infinity")]
    public void CalibrationWithNonFiniteValuesIsRefusedNamingTheFile(float bad, string word)
    {
        var data = Calibration.Value.AsSpan<float>()[..(64 * 784)].ToArray();
        data[40 * 784 + 3] = bad;
        var set = new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([64, 1, 28, 28], data) }, new Dictionary<string, string> { ["image"] = "calib.npy" });
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_mlp")), new QuantizationOptions(), set));
        Assert.Equal(ErrorCodes.BadCalibration, e.Code);
        Assert.Contains("calib.npy", e.Message);
        Assert.Contains(word, e.Message);
        Assert.Contains("sample 40", e.Message);
    }

    [Fact]
    public void CalibrationWithFewerSamplesThanABatchIsRefused()
    {
        var data = Calibration.Value.AsSpan<float>()[..(5 * 784)].ToArray();
        var set = new CalibrationSet(new Dictionary<string, Tensor> { ["image"] = Tensor.FromArray([5, 1, 28, 28], data) }, new Dictionary<string, string> { ["image"] = "few.npy" });
        var e = Assert.Throws<ModelException>(() => ModelQuantizer.Quantize(OnnxModelLoader.Load(RealModelPaths.Fashion("fashion_mlp")), new QuantizationOptions(), set));
        Assert.Equal(ErrorCodes.BadCalibration, e.Code);
        Assert.Contains("few.npy", e.Message);
        Assert.Contains("5 samples", e.Message);
    }
}
