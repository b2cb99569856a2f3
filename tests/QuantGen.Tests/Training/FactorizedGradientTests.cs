using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.Factorization;
using QuantGen.Core.Training;

namespace QuantGen.Tests.Training;

/// <summary>
/// Factorized layers (W ≈ A·B, quantized sparse factors) in the training graph, trained as their factors: finite
/// differences through the float factors (conv and fully connected, sparse A and B, fused activations), the forward
/// against the plain layer with W = Â·B̂, the fake-quantized gradients against the chain rule by hand, the write-back,
/// and bit-identical gradients at 1 and 2 threads.
/// </summary>
public sealed class FactorizedGradientTests
{
    [Fact]
    public void FactorizedConvWithStridePadsAndRelu6MatchesFiniteDifferences()
    {
        var b = new GradientTests.Net(4, 7, 6);
        var conv = b.Conv("conv", 5, kernel: [3, 3], strides: [2, 1], pads: [1, 1, 1, 0]);
        conv.ClampMin = 0;
        conv.ClampMax = 1.5f;
        // K = 36: B keeps 10 of 36 per row (rank 3), A 2 of 3.
        Factorize(conv, rank: 3, nonZerosB: 10, nonZerosA: 2, bits: 4, seed: 1);
        b.Conv("after", 2, kernel: [1, 1]);
        b.Check(factors: true);
    }

    [Fact]
    public void FactorizedFullyConnectedOverRowsWithLeakyReluMatchesFiniteDifferences()
    {
        var b = GradientTests.Net.Rows(3, 8);
        var fc = b.FullyConnected("fc", 5);
        fc.LeakyAlpha = 0.1f;
        Factorize(fc, rank: 3, nonZerosB: 4, nonZerosA: 2, bits: 3, seed: 2);
        b.FullyConnected("after", 2);
        b.Check(factors: true);
    }

    /// <summary>With float factors, a factorized layer computes the plain layer whose weights are the product Â·B̂.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ForwardEqualsThePlainLayerWithTheProductAsWeights(bool conv)
    {
        var b = conv ? new GradientTests.Net(3, 6, 5) : GradientTests.Net.Rows(2, 7);
        var layer = conv ? b.Conv("conv", 4, kernel: [3, 2], strides: [1, 2], pads: [1, 0, 1, 1]) : b.FullyConnected("fc", 6);
        Factorize(layer, rank: 2, nonZerosB: 5, nonZerosA: 1, bits: 4, seed: 3);
        var input = new Dictionary<string, double[]> { ["x"] = b.Input };
        var factorized = new TrainingGraph<double>(b.Graph, b.Layers, b.Last, factors: true).Evaluate(input);
        // The same net with the layer's float weights replaced by the product (the teacher's reading: factors: false).
        var fitted = layer.Factorization!;
        layer.Weights = fitted.Product();
        var expected = new TrainingGraph<double>(b.Graph, b.Layers, b.Last).Evaluate(input);
        Assert.Equal(expected.Length, factorized.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], factorized[i], 5);
        Assert.Contains(expected, v => Math.Abs(v) > 0.05);
    }

    /// <summary>
    /// One factorized fully connected layer with 3-bit factors, a coarse intermediate grid and an output grid: the
    /// graph's gradients of B's and A's latent entries and row scales, the intermediate's scale and the bias equal the
    /// chain rule written out by hand with LSQ+'s expressions (arXiv 2004.09576).
    /// </summary>
    [Fact]
    public void FakeQuantizedFactorGradientsFollowTheChainRule()
    {
        var graph = new Graph();
        graph.ValueInfos["x"] = new TensorInfo(DataType.Float, [1, 6]);
        graph.ValueInfos["y"] = new TensorInfo(DataType.Float, [1, 4]);
        var random = new Random(7);
        var layer = new FloatLayer(LayerKinds.FullyConnected, "fc", ["x"], "y")
        {
            Weights = new float[24],
            WeightShape = [4, 6],
            Bias = [0.1f, -0.2f, 0.3f, 0f],
        };
        var bFactor = SparseQuantizedFactor.Project(Enumerable.Range(0, 18).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), 3, 6, 4, 3);
        var aFactor = SparseQuantizedFactor.Project(Enumerable.Range(0, 12).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), 4, 3, 2, 3);
        layer.Factorization = new FactorizedWeights(new FactorSetting(3, 4, 2, 3), aFactor, bFactor, 0, false);
        const float sz = 0.05f;
        var training = new TrainingGraph<double>(graph, [layer], "y", factors: true);
        training.QuantizeFactors(layer, sz);
        int ys = training.QuantizeValue("y", 0.02f, 30, 0, 63);
        var slots = training.FactorSlotsOf(layer)!;
        // Move the latent entries off their grid points (some beyond the grid's ±3 steps) so the STE's clipping shows.
        var bLatent = training.Parameters[slots.B];
        var aLatent = training.Parameters[slots.A];
        for (int j = 0; j < bLatent.Length; j++)
            bLatent[j] = j % 5 == 0 ? bFactor.Scales[j / 4] * (j % 2 == 0 ? 4.2 : -3.7) : bLatent[j] + (random.NextDouble() - 0.5) * bFactor.Scales[j / 4] * 0.9;
        for (int j = 0; j < aLatent.Length; j++)
            aLatent[j] = j % 3 == 0 ? aFactor.Scales[j / 2] * (j % 2 == 0 ? 3.6 : -4.1) : aLatent[j] + (random.NextDouble() - 0.5) * aFactor.Scales[j / 2] * 0.9;
        var x = Enumerable.Range(0, 6).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        double[] r = [0.7, -1.1, 0.4, 2.0];
        var (_, g) = training.Gradient([new Dictionary<string, double[]> { ["x"] = x }], (_, _) => (0, r), threads: 1);

        // By hand: B̂ = q(B), t = B̂ x, ẑ = q_z(t), Â = q(A), u = Â ẑ + b, ŷ = q_y(u), L = Σ r ŷ.
        static (double Q, bool Inside, double DScale) Q(double v, double s, double level)
        {
            double u = v / s;
            if (u < -level) return (-level * s, false, -level);
            if (u > level) return (level * s, false, level);
            return (Math.Round(u) * s, true, Math.Round(u) - u);
        }
        var bq = bLatent.Select((v, j) => Q(v, bFactor.Scales[j / 4], 3)).ToArray();
        var aq = aLatent.Select((v, j) => Q(v, aFactor.Scales[j / 2], 3)).ToArray();
        var t = new double[3];
        for (int c = 0; c < 3; c++)
            for (int s = 0; s < 4; s++) t[c] += bq[c * 4 + s].Q * x[bFactor.Columns[c * 4 + s]];
        var zq = t.Select(v => Q(v, sz, 32767)).ToArray();
        Assert.Contains(zq, z => Math.Abs(z.DScale) > 0.05);   // the intermediate's rounding is visible at this scale
        double sy = 0.02f, by = -sy * 30;
        var dz = new double[3];
        var expectedA = new double[8];
        var expectedAScales = new double[4];
        var expectedBias = new double[4];
        double expectedZScale = 0;
        for (int o = 0; o < 4; o++)
        {
            double u = layer.Bias[o];
            for (int s = 0; s < 2; s++) u += aq[o * 2 + s].Q * zq[aFactor.Columns[o * 2 + s]].Q;
            double v = (u - by) / sy;
            double du = v >= 0 && v <= 63 ? r[o] : 0;
            expectedBias[o] = du;
            for (int s = 0; s < 2; s++)
            {
                int j = o * 2 + s, c = aFactor.Columns[j];
                double dA = du * zq[c].Q;
                expectedA[j] = aq[j].Inside ? dA : 0;
                expectedAScales[o] += dA * aq[j].DScale;
                dz[c] += du * aq[j].Q;
            }
        }
        var expectedB = new double[12];
        var expectedBScales = new double[3];
        for (int c = 0; c < 3; c++)
        {
            expectedZScale += dz[c] * zq[c].DScale;
            for (int s = 0; s < 4; s++)
            {
                int j = c * 4 + s;
                double dB = dz[c] * x[bFactor.Columns[j]];
                expectedB[j] = bq[j].Inside ? dB : 0;
                expectedBScales[c] += dB * bq[j].DScale;
            }
        }
        Assert.Contains(bq, e => !e.Inside);
        Assert.Contains(aq, e => !e.Inside);
        Assert.Contains(expectedBias, v => v != 0);
        for (int j = 0; j < 12; j++) Assert.Equal(expectedB[j], g[slots.B][j], 10);
        for (int j = 0; j < 8; j++) Assert.Equal(expectedA[j], g[slots.A][j], 10);
        for (int c = 0; c < 3; c++) Assert.Equal(expectedBScales[c], g[slots.BScales][c], 10);
        for (int o = 0; o < 4; o++)
        {
            Assert.Equal(expectedAScales[o], g[slots.AScales][o], 10);
            Assert.Equal(expectedBias[o], g[slots.Bias][o], 10);
        }
        Assert.Equal(expectedZScale, g[slots.ZGrid][0], 10);
        Assert.NotEqual(0, g[ys][0]);
    }

    /// <summary>The write-back reads each stored entry's grid index off its latent value and keeps the pattern: untouched, it is the fitted factor.</summary>
    [Fact]
    public void TrainedFactorsRoundTheLatentEntriesOntoTheirGridsAndKeepThePattern()
    {
        var b = new GradientTests.Net(4, 5, 5);
        var conv = b.Conv("conv", 6, kernel: [3, 3], pads: [1, 1, 1, 1]);
        var fitted = Factorize(conv, rank: 3, nonZerosB: 9, nonZerosA: 2, bits: 3, seed: 4) with { IntermediateMax = 12.0 };
        conv.Factorization = fitted;
        var training = new TrainingGraph<float>(b.Graph, b.Layers, b.Last, factors: true);
        training.QuantizeFactors(conv, (float)(12.0 / 32767));
        var same = training.TrainedFactors(conv);
        Assert.Equal(fitted.B.Levels, same.B.Levels);
        Assert.Equal(fitted.A.Levels, same.A.Levels);
        Assert.Equal(fitted.B.Columns, same.B.Columns);
        Assert.Equal(fitted.A.Columns, same.A.Columns);
        Assert.Equal(fitted.B.Scales, same.B.Scales);
        Assert.Equal(12.0, same.IntermediateMax!.Value, 4);

        var slots = training.FactorSlotsOf(conv)!;
        var bScales = training.Parameters[slots.BScales];
        var latent = training.Parameters[slots.B];
        int level0 = fitted.B.Levels[0];
        latent[0] = bScales[0] * (level0 + 0.6f);   // rounds one step up (or clips at +3)
        latent[1] = bScales[0] * -10;               // clips at −3
        training.Parameters[slots.ZGrid][0] = 0.001f;
        var moved = training.TrainedFactors(conv);
        Assert.Equal(Math.Min(level0 + 1, 3), moved.B.Levels[0]);
        Assert.Equal(-3, moved.B.Levels[1]);
        Assert.Equal(fitted.B.Levels[2..], moved.B.Levels[2..]);
        Assert.Equal(0.001 * 32767, moved.IntermediateMax!.Value, 3);
    }

    [Fact]
    public void FakeQuantizedFactorGradientsAreBitIdenticalAtOneAndTwoThreads()
    {
        var b = new GradientTests.Net(4, 8, 8);
        var conv = b.Conv("conv", 6, kernel: [3, 3], pads: [1, 1, 1, 1]);
        conv.ClampMin = 0;
        Factorize(conv, rank: 3, nonZerosB: 12, nonZerosA: 2, bits: 3, seed: 5);
        b.Layer(LayerKinds.Reshape, "flatten", [b.Last], [1, 384]);
        var fc = b.FullyConnected("fc", 5);
        Factorize(fc, rank: 4, nonZerosB: 100, nonZerosA: 4, bits: 4, seed: 6);
        var training = new TrainingGraph<float>(b.Graph, b.Layers, b.Last, factors: true);
        training.QuantizeFactors(conv, 0.004f);
        training.QuantizeFactors(fc, 0.002f);
        training.QuantizeValue(conv.Output, 0.02f, 0, 0, 255);
        var random = new Random(8);
        var batch = Enumerable.Range(0, 13).Select(_ => (IReadOnlyDictionary<string, float[]>)new Dictionary<string, float[]>
        {
            ["x"] = Enumerable.Range(0, 256).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(),
        }).ToArray();
        var probe = Enumerable.Range(0, 5).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        (double, float[]) Loss(int s, float[] y) => (y.Zip(probe, (a, p) => (double)a * p).Sum(), probe);

        var (loss1, one) = training.Gradient(batch, Loss, threads: 1);
        var (loss2, two) = training.Gradient(batch, Loss, threads: 2);
        Assert.Equal(loss1, loss2);
        for (int p = 0; p < one.Length; p++) Assert.True(one[p].AsSpan().SequenceEqual(two[p]), $"{training.ParameterNames[p]} differs between 1 and 2 threads");
        foreach (var suffix in new[] { ".b", ".a", ".bScales", ".aScales", ".zGrid", ".bias" })
            Assert.Contains(training.ParameterNames.Select((n, p) => (n, p)), e => e.n == "fc" + suffix && one[e.p].Any(v => v != 0));
        Assert.Contains(training.ParameterNames.Select((n, p) => (n, p)), e => e.n == "conv.b" && one[e.p].Any(v => v != 0));
    }

    /// <summary>Fits random factors of the layer's shape (B [rank, K], A [M, rank]) at the given sparsity and bit-width, and sets them on it.</summary>
    private static FactorizedWeights Factorize(FloatLayer layer, int rank, int nonZerosB, int nonZerosA, int bits, int seed)
    {
        var random = new Random(seed);
        int m = layer.OutputChannels, k = layer.FanIn;
        float[] Values(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
        var bFactor = SparseQuantizedFactor.Project(Values(rank * k, 1 / Math.Sqrt(nonZerosB)), rank, k, nonZerosB, bits);
        var aFactor = SparseQuantizedFactor.Project(Values(m * rank, 1.5 / Math.Sqrt(nonZerosA)), m, rank, nonZerosA, bits);
        var factors = new FactorizedWeights(new FactorSetting(rank, nonZerosB, nonZerosA, bits), aFactor, bFactor, 0, false);
        layer.Factorization = factors;
        return factors;
    }
}
