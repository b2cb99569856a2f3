using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;
using QuantGen.Core.Training;

namespace QuantGen.Tests.Training;

/// <summary>The LSQ+ fake quantizer (arXiv 2004.09576) and its straight-through gradients.</summary>
public sealed class LsqTests
{
    /// <summary>
    /// Hand-computed points of the paper's eq. 3-6 with s = 0.5, β = −1, n = 0, p = 15: x̂ = s·⌊clamp((x − β)/s, n, p)⌉ + β;
    /// ∂x̂/∂s = ⌊v⌉ − v inside, n below, p above; ∂x̂/∂β = 0 inside, 1 outside; ∂x̂/∂x = 1 inside, 0 outside.
    /// </summary>
    [Theory]
    [InlineData(0.3, 0.5, 1, 0.4, 0)]      // v = 2.6 → 3: x̂ = 0.5, ∂s = 3 − 2.6
    [InlineData(0.2, 0.0, 1, -0.4, 0)]     // v = 2.4 → 2: x̂ = 0, ∂s = 2 − 2.4
    [InlineData(0.25, 0.0, 1, -0.5, 0)]    // v = 2.5 → 2 (half to even): x̂ = 0
    [InlineData(0.75, 1.0, 1, 0.5, 0)]     // v = 3.5 → 4 (half to even): x̂ = 1
    [InlineData(-2, -1, 0, 0, 1)]          // v = −2 < n: x̂ = s·n + β, ∂s = n = 0
    [InlineData(10, 6.5, 0, 15, 1)]        // v = 22 > p: x̂ = s·p + β, ∂s = p
    public void PaperExpressionsAtHandComputedPoints(double x, double expected, double dx, double ds, double dBeta)
    {
        const double s = 0.5, beta = -1, n = 0, p = 15;
        Assert.Equal(expected, Lsq.Quantize(x, s, beta, n, p), 12);
        var (gx, gs, gb) = Lsq.Gradient(x, s, beta, n, p);
        Assert.Equal(dx, gx, 12);
        Assert.Equal(ds, gs, 12);
        Assert.Equal(dBeta, gb, 12);
    }

    [Fact]
    public void ScaleGradientIsTheSlopeOfTheQuantizerWithTheRoundingHeldByTheStraightThroughEstimator()
    {
        // Inside the range, x̂(s) = s·⌊v⌉ + β with v = (x − β)/s: its finite difference in s (⌊v⌉ does not move for a
        // small step) is ⌊v⌉. The STE passes the rounding as the identity, whose path s·v + β = x contributes the −v
        // that makes the paper's ⌊v⌉ − v.
        var random = new Random(3);
        for (int t = 0; t < 200; t++)
        {
            double s = 0.05 + random.NextDouble(), beta = random.NextDouble() - 0.5, x = random.NextDouble() * 4 - 2;
            double v = (x - beta) / s;
            if (v < -8 || v > 7 || Math.Abs(v - Math.Round(v)) > 0.49) continue;
            const double h = 1e-6;
            double frozen = (Lsq.Quantize(x, s + h, beta, -8, 7) - Lsq.Quantize(x, s - h, beta, -8, 7)) / (2 * h);
            Assert.Equal(Math.Round(v), frozen, 6);
            Assert.Equal(frozen - v, Lsq.Gradient(x, s, beta, -8, 7).Scale, 6);
        }
    }

    [Fact]
    public void WithOffsetMinusScaleTimesZeroPointItIsTheIntegerModelsActivationGrid()
    {
        var random = new Random(11);
        foreach (var (min, max) in new[] { (-1.3f, 4.1f), (0f, 6f), (-0.02f, 0.7f) })
        {
            var grid = ActivationGrid.FromRange(min, max, 8);
            var x = Enumerable.Range(0, 1000).Select(_ => (float)(random.NextDouble() * (max - min) * 1.4 + min * 1.2 - 0.1)).ToArray();
            var expected = grid.FakeQuantize(x);
            double scale = grid.Scale, beta = -scale * grid.ZeroPoint;
            for (int i = 0; i < x.Length; i++)
                Assert.True(Math.Abs(expected[i] - Lsq.Quantize((double)x[i], scale, beta, grid.QMin, grid.QMax)) <= 1e-6 * (1 + Math.Abs(expected[i])), $"{x[i]}");
        }
    }

    /// <summary>
    /// One fully connected layer with a 3-bit weight grid, an input grid and an output grid: the graph's gradients equal
    /// the chain rule written out by hand with the paper's expressions.
    /// </summary>
    [Fact]
    public void FakeQuantizedLayerGradientsFollowTheChainRule()
    {
        var graph = new Graph();
        graph.ValueInfos["x"] = new TensorInfo(DataType.Float, [1, 6]);
        graph.ValueInfos["y"] = new TensorInfo(DataType.Float, [1, 4]);
        var random = new Random(5);
        var layer = new FloatLayer(LayerKinds.FullyConnected, "fc", ["x"], "y")
        {
            Weights = Enumerable.Range(0, 24).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(),
            WeightShape = [4, 6],
            Bias = [0.1f, -0.2f, 0.3f, 0f],
        };
        float[] wScales = [0.1f, 0.2f, 0.15f, 0.12f];
        var training = new TrainingGraph<double>(graph, [layer], "y");
        int ws = training.QuantizeWeights(layer, wScales, 3);
        int xs = training.QuantizeValue("x", 0.01f, 100, 0, 255);
        int ys = training.QuantizeValue("y", 0.02f, 30, 0, 63);
        var x = Enumerable.Range(0, 6).Select(_ => random.NextDouble() * 3 - 1.2).ToArray(); // some beyond the input grid's [−1, 1.55]
        double[] r = [0.7, -1.1, 0.4, 2.0];
        var (_, g) = training.Gradient([new Dictionary<string, double[]> { ["x"] = x }], (_, _) => (0, r), threads: 1);

        // By hand: x̂ = q(x), Ŵ = q(W), z = Ŵ x̂ + b, ŷ = q(z), L = Σ r ŷ.
        double sx = 0.01f, bx = -sx * 100, sy = 0.02f, by = -sy * 30;
        var xq = x.Select(v => Lsq.Quantize(v, sx, bx, 0, 255)).ToArray();
        var w = layer.Weights.Select(v => (double)v).ToArray();
        var wq = w.Select((v, j) => Lsq.Quantize(v, (double)wScales[j / 6], 0, -3, 3)).ToArray();
        var expectedW = new double[24];
        var expectedWs = new double[4];
        var expectedB = new double[4];
        double expectedYs = 0, expectedYb = 0, expectedXs = 0, expectedXb = 0;
        var dxq = new double[6];
        for (int o = 0; o < 4; o++)
        {
            double z = layer.Bias[o];
            for (int i = 0; i < 6; i++) z += wq[o * 6 + i] * xq[i];
            double v = (z - by) / sy;
            bool inside = v >= 0 && v <= 63;
            expectedYs += r[o] * (inside ? Math.Round(v) - v : v < 0 ? 0 : 63);
            expectedYb += r[o] * (inside ? 0 : 1);
            double dz = inside ? r[o] : 0;
            expectedB[o] = dz;
            for (int i = 0; i < 6; i++)
            {
                int j = o * 6 + i;
                double dwq = dz * xq[i], vw = w[j] / wScales[o];
                bool wInside = vw >= -3 && vw <= 3;
                expectedW[j] = wInside ? dwq : 0;
                expectedWs[o] += dwq * (wInside ? Math.Round(vw) - vw : vw < -3 ? -3 : 3);
                dxq[i] += dz * wq[j];
            }
        }
        for (int i = 0; i < 6; i++)
        {
            double v = (x[i] - bx) / sx;
            bool inside = v >= 0 && v <= 255;
            expectedXs += dxq[i] * (inside ? Math.Round(v) - v : v < 0 ? 0 : 255);
            expectedXb += dxq[i] * (inside ? 0 : 1);
        }
        Assert.Contains(x, v => (v - bx) / sx > 255 || (v - bx) / sx < 0);
        var (wSlot, bSlot, wsSlot) = training.SlotsOf(layer);
        Assert.Equal(ws, wsSlot);
        for (int j = 0; j < 24; j++) Assert.Equal(expectedW[j], g[wSlot][j], 10);
        for (int o = 0; o < 4; o++)
        {
            Assert.Equal(expectedB[o], g[bSlot][o], 10);
            Assert.Equal(expectedWs[o], g[ws][o], 10);
        }
        Assert.Equal(expectedYs, g[ys][0], 10);
        Assert.Equal(expectedYb, g[ys][1], 10);
        Assert.Equal(expectedXs, g[xs][0], 10);
        Assert.Equal(expectedXb, g[xs][1], 10);
    }
}
