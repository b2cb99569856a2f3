using QuantGen.Core.Quantization;

namespace QuantGen.Tests.Quantization;

public sealed class AdaRoundTests
{
    // Short schedules keep the tests fast; a larger step lets V reach the saturated ends of h in that many steps.
    private static readonly AdaRoundSettings Fast = new(Iterations: 400, BatchRows: 256, LearningRate: 2e-2f);

    [Fact]
    public void EveryIndexIsTheFloorOrTheCeilingOrTheClampBound()
    {
        // Scales at 70% of min-max, so some weights lie beyond the grid and must end on ±L.
        var problem = Synthetic(m: 16, k: 64, rows: 512, bits: 3, seed: 1, scaleFactor: 0.7f);
        var result = AdaRound.Optimize(problem, Fast);
        int level = WeightQuantizer.MaxLevel(problem.Bits), k = problem.FanIn, clamped = 0;
        for (int i = 0; i < result.Quantized.Length; i++)
        {
            float ratio = problem.Weights[i] / problem.Scales[i / k];
            int floor = (int)MathF.Floor(ratio), q = result.Quantized[i];
            Assert.True(q == Math.Clamp(floor, -level, level) || q == Math.Clamp(floor + 1, -level, level), $"index {i}: {q} for W/s = {ratio}");
            if (Math.Abs(ratio) > level) clamped++;
        }
        Assert.True(clamped > 0, "the problem should exercise the clamp");
    }

    [Theory]
    [InlineData(3, 0f)]
    [InlineData(4, 0f)]
    [InlineData(3, 0.05f)]
    [InlineData(4, 0.05f)]
    public void BeatsRoundToNearestOnCorrelatedInputs(int bits, float inputNoise)
    {
        var problem = Synthetic(m: 16, k: 64, rows: 512, bits, seed: bits, inputNoise: inputNoise);
        var result = AdaRound.Optimize(problem, Fast);
        AssertErrorsAreReported(problem, result);
        Assert.True(result.LearnedError < 0.6 * result.NearestError, $"learned {result.LearnedError} vs nearest {result.NearestError}");
        Assert.True(result.FlippedFromNearest > 0);
    }

    // Shapes with M·K·(rows per step) ≥ 2^20, the size from which a step is spread over threads.
    [Theory]
    [InlineData(32, 128, 1, 1024, 256, 150)] // steps draw runs of rows
    [InlineData(32, 128, 1, 256, 1024, 150)] // every step uses all rows
    [InlineData(64, 9, 64, 2048, 2048, 40)] // depthwise: dot products along the batch
    public void IsDeterministicAndIndependentOfTheThreadCount(int m, int k, int groups, int rows, int batchRows, int iterations)
    {
        var problem = Synthetic(m, k, rows, bits: 4, seed: 5, groups: groups, inputNoise: 0.05f, relu: true);
        var settings = Fast with { Iterations = iterations, BatchRows = batchRows, Seed = 3 };
        var first = AdaRound.Optimize(problem, settings);
        var again = AdaRound.Optimize(problem, settings);
        var single = AdaRound.Optimize(problem, settings with { MaxDegreeOfParallelism = 1 });
        var two = AdaRound.Optimize(problem, settings with { MaxDegreeOfParallelism = 2 });
        foreach (var other in new[] { again, single, two })
        {
            Assert.Equal(first.Quantized, other.Quantized);
            Assert.Equal(first.LearnedError, other.LearnedError);
            Assert.Equal(first.NearestError, other.NearestError);
        }
        // When steps draw rows, another seed draws others and the learned rounding changes somewhere.
        if (batchRows < rows)
            Assert.NotEqual(first.Quantized, AdaRound.Optimize(problem, settings with { Seed = 4 }).Quantized);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LearnsThroughReluClampAndLeakyRelu(bool leaky)
    {
        // ReLU, or LeakyReLU followed by a per-channel clamp at a level the outputs reach.
        var problem = Synthetic(m: 16, k: 64, rows: 512, bits: 4, seed: 7, relu: !leaky, leakyAlpha: leaky ? 0.1f : null,
            clampMax: leaky ? o => 0.5f + 0.1f * (o % 4) : null);
        var result = AdaRound.Optimize(problem, Fast);
        AssertErrorsAreReported(problem, result);
        Assert.True(result.LearnedError < 0.7 * result.NearestError, $"learned {result.LearnedError} vs nearest {result.NearestError}");
    }

    [Fact]
    public void ImprovesDepthwiseLayers()
    {
        // One output channel per group, each reading its own 3x3 window rows.
        var problem = Synthetic(m: 24, k: 9, rows: 1024, bits: 4, seed: 9, groups: 24, relu: true);
        var result = AdaRound.Optimize(problem, Fast);
        AssertErrorsAreReported(problem, result);
        Assert.True(result.LearnedError < 0.9 * result.NearestError, $"learned {result.LearnedError} vs nearest {result.NearestError}");
    }

    [Fact]
    public void ChangesFewWeightsAtEightBits()
    {
        var problem = Synthetic(m: 16, k: 64, rows: 512, bits: 8, seed: 11);
        var result = AdaRound.Optimize(problem, Fast);
        AssertErrorsAreReported(problem, result);
        Assert.True(result.FlippedFromNearest >= 1 && result.FlippedFromNearest <= problem.Weights.Length / 10, $"flipped {result.FlippedFromNearest}, learned {result.LearnedError} vs nearest {result.NearestError}");
        Assert.True(result.LearnedError <= result.NearestError);
    }

    [Fact]
    public void RejectsInconsistentShapes()
    {
        var problem = Synthetic(m: 4, k: 8, rows: 64, bits: 4, seed: 1);
        Assert.Throws<ArgumentException>(() => AdaRound.Optimize(problem with { Groups = 3 }, Fast));
        Assert.Throws<ArgumentException>(() => AdaRound.Optimize(problem with { QuantInputs = [new float[10]] }, Fast));
        Assert.Throws<ArgumentException>(() => AdaRound.Optimize(problem with { Bits = 9 }, Fast));
    }

    /// <summary>Recomputes both errors in double precision from the definition and compares with the result.</summary>
    private static void AssertErrorsAreReported(AdaRoundProblem p, AdaRoundResult result)
    {
        var nearest = WeightQuantizer.RoundToNearest(p.Weights, p.Scales, p.Bits);
        Assert.Equal(ReferenceError(p, nearest), result.NearestError, result.NearestError * 1e-3);
        Assert.Equal(ReferenceError(p, result.Quantized), result.LearnedError, result.LearnedError * 1e-3);
        int flipped = 0;
        for (int i = 0; i < nearest.Length; i++)
            if (nearest[i] != result.Quantized[i]) flipped++;
        Assert.Equal(flipped, result.FlippedFromNearest);
    }

    internal static double ReferenceError(AdaRoundProblem p, int[] quantized)
    {
        int m = p.OutputChannels, k = p.FanIn, perGroup = m / p.Groups, rows = p.FloatInputs[0].Length / k;
        double sum = 0;
        for (int o = 0; o < m; o++)
        {
            int g = o / perGroup;
            for (int r = 0; r < rows; r++)
            {
                double exact = p.Bias[o], rounded = p.Bias[o];
                for (int i = 0; i < k; i++)
                {
                    exact += (double)p.Weights[o * k + i] * p.FloatInputs[g][r * k + i];
                    rounded += (double)quantized[o * k + i] * p.Scales[o] * p.QuantInputs[g][r * k + i];
                }
                double e = Activate(p, o, exact) - Activate(p, o, rounded);
                sum += e * e;
            }
        }
        return sum / ((double)rows * m);
    }

    private static double Activate(AdaRoundProblem p, int o, double z)
    {
        if (p.LeakyAlpha is { } alpha && z < 0) z *= alpha;
        return Math.Clamp(z, p.ClampMin[o], p.ClampMax[o]);
    }

    /// <summary>
    /// A layer whose input rows lie near a 6-dimensional subspace (as real activations are strongly correlated),
    /// Gaussian weights, per-channel min-max scales (times <paramref name="scaleFactor"/>).
    /// </summary>
    internal static AdaRoundProblem Synthetic(int m, int k, int rows, int bits, int seed, int groups = 1, float inputNoise = 0,
        bool relu = false, float? leakyAlpha = null, Func<int, float>? clampMax = null, float scaleFactor = 1)
    {
        const int rank = 6;
        var random = new Random(seed);
        float Gaussian() => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        var floatInputs = new float[groups][];
        var quantInputs = new float[groups][];
        for (int g = 0; g < groups; g++)
        {
            var basis = new float[rank * k];
            for (int i = 0; i < basis.Length; i++) basis[i] = Gaussian();
            var x = new float[rows * k];
            var z = new float[rank];
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < rank; j++) z[j] = Gaussian();
                for (int i = 0; i < k; i++)
                {
                    float v = 0.3f * Gaussian();
                    for (int j = 0; j < rank; j++) v += z[j] * basis[j * k + i];
                    x[r * k + i] = v / MathF.Sqrt(rank);
                }
            }
            floatInputs[g] = x;
            quantInputs[g] = x.Select(v => v + inputNoise * Gaussian()).ToArray();
        }
        var weights = new float[m * k];
        for (int i = 0; i < weights.Length; i++) weights[i] = Gaussian() / MathF.Sqrt(k);
        var bias = new float[m];
        for (int o = 0; o < m; o++) bias[o] = 0.1f * Gaussian();
        var scales = RangeSetting.WeightScales(weights, m, bits, perChannel: true, RangeMethod.MinMax).Select(s => s * scaleFactor).ToArray();
        var low = Enumerable.Repeat(relu ? 0f : float.NegativeInfinity, m).ToArray();
        var high = Enumerable.Range(0, m).Select(o => clampMax?.Invoke(o) ?? float.PositiveInfinity).ToArray();
        return new AdaRoundProblem(weights, m, groups, scales, bits, bias, floatInputs, quantInputs, low, high, leakyAlpha);
    }
}
