using QuantGen.Core;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.Factorization;
using Xunit.Abstractions;

namespace QuantGen.Tests.Factorization;

/// <summary>The factorization's pieces: projection, packing, fitting, data-aware objective, options.</summary>
public sealed class FactorizationTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(5, 40, 7, 4)]
    [InlineData(3, 300, 300, 8)]
    [InlineData(6, 17, 1, 2)]
    public void ProjectionKeepsExactlyTheLargestEntriesOnTheGrid(int rows, int cols, int keep, int bits)
    {
        var random = new Random(rows * cols + keep);
        var values = Enumerable.Range(0, rows * cols).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var factor = SparseQuantizedFactor.Project(values, rows, cols, keep, bits);
        int level = (1 << (bits - 1)) - 1;
        var dense = factor.Dequantize();
        for (int r = 0; r < rows; r++)
        {
            var columns = factor.Columns.AsSpan(r * keep, keep).ToArray();
            Assert.Equal(keep, columns.Distinct().Count());
            Assert.Equal(columns.Order(), columns);
            // The stored columns are the row's largest magnitudes: every dropped entry is no larger than the smallest kept one.
            float smallestKept = columns.Min(j => MathF.Abs(values[r * cols + j]));
            for (int j = 0; j < cols; j++)
                if (!columns.Contains(j))
                {
                    Assert.True(MathF.Abs(values[r * cols + j]) <= smallestKept);
                    Assert.Equal(0f, dense[r * cols + j]);
                }
            // Values on the row's grid: an integer level within ±(2^(b−1) − 1) times the row's scale.
            for (int s = 0; s < keep; s++)
            {
                int q = factor.Levels[r * keep + s];
                Assert.InRange(q, -level, level);
                Assert.Equal(q * factor.Scales[r], dense[r * cols + columns[s]]);
            }
            Assert.True(factor.Scales[r] > 0);
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(8)]
    public void PackedValuesAndIndicesReadBackExactly(int bits)
    {
        var random = new Random(bits);
        int level = (1 << (bits - 1)) - 1;
        var levels = Enumerable.Range(0, 101).Select(_ => random.Next(-level, level + 1)).ToArray();
        var packed = FactorStorage.PackValues(levels, bits);
        Assert.Equal((101 * bits + 7) / 8, packed.Length);
        Assert.All(packed, b => Assert.InRange(b, 0, 255));
        for (int i = 0; i < levels.Length; i++) Assert.Equal(levels[i], FactorStorage.ReadValue(packed, i, bits));
        foreach (int cols in new[] { 256, 257, 784 })
        {
            var columns = Enumerable.Range(0, 50).Select(_ => random.Next(0, cols)).ToArray();
            var indices = FactorStorage.PackIndices(columns, cols);
            Assert.Equal(columns.Length * FactorSetting.IndexWidth(cols), indices.Length);
            for (int i = 0; i < columns.Length; i++) Assert.Equal(columns[i], FactorStorage.ReadIndex(indices, i, cols));
        }
    }

    [Fact]
    public void TruncatedSvdOfAnExactlyLowRankMatrixIsExact()
    {
        var random = new Random(3);
        int m = 30, k = 50, r = 4;
        var u = Enumerable.Range(0, m * r).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var v = Enumerable.Range(0, r * k).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        var w = Multiply(u, v, m, r, k);
        var approximation = WeightSvd.Approximate(w, m, k, r);
        double error = w.Zip(approximation, (a, b) => (double)(a - b) * (a - b)).Sum(), total = w.Sum(x => (double)x * x);
        Assert.True(error < 1e-8 * total, $"relative error {error / total}");
    }

    [Fact]
    public void FittedFactorsAreSparseOnTheirGridsAndBeatTheProjectedSvd()
    {
        var (w, m, k) = RandomWeights(48, 96, seed: 5);
        var objective = new FactorObjective(w, m, k, null);
        var setting = new FactorSetting(Rank: 12, NonZerosB: 48, NonZerosA: 6, Bits: 4);
        var fit = FactorFitter.Fit(objective, setting);
        Assert.Equal(12 * 48, fit.B.Levels.Length);
        Assert.Equal(48 * 6, fit.A.Levels.Length);
        Assert.All(fit.A.Levels.Concat(fit.B.Levels), q => Assert.InRange(q, -7, 7));
        // The fitted error is the error of the stored factors' product.
        Assert.Equal(objective.RelativeError(fit.Product()), fit.RelativeError, 4);
        // Zero iterations = the SVD initialisation projected once: descent must improve on it.
        var start = FactorFitter.Fit(objective, setting, iterations: 0);
        output.WriteLine($"relative weight error: projected SVD {start.RelativeError:F4}, after PGD {fit.RelativeError:F4}");
        Assert.True(fit.RelativeError < 0.9 * start.RelativeError);
    }

    [Fact]
    public void DataAwareFitHasLowerOutputErrorOnHeldOutInputs()
    {
        // Inputs on a low-dimensional subspace (as real activations are): the weight error spends rank on directions
        // the inputs never excite, the output error does not.
        var (w, m, k) = RandomWeights(40, 80, seed: 7);
        var basis = RandomWeights(10, 80, seed: 8).W;
        float[] Inputs(int n, int seed)
        {
            var random = new Random(seed);
            var z = Enumerable.Range(0, n * 10).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
            var x = Multiply(z, basis, n, 10, k);
            for (int i = 0; i < x.Length; i++) x[i] += (float)(random.NextDouble() - 0.5) * 0.01f;
            return x;
        }
        var calibration = Inputs(400, 1);
        var heldOut = new FactorObjective(w, m, k, FactorObjective.SecondMomentOf(Inputs(400, 2), 400, k));
        var setting = new FactorSetting(Rank: 6, NonZerosB: 80, NonZerosA: 6, Bits: 6);
        var dataAware = FactorFitter.Fit(new FactorObjective(w, m, k, FactorObjective.SecondMomentOf(calibration, 400, k)), setting);
        var weightOnly = FactorFitter.Fit(new FactorObjective(w, m, k, null), setting);
        double aware = heldOut.RelativeError(dataAware.Product()), plain = heldOut.RelativeError(weightOnly.Product());
        output.WriteLine($"held-out relative output error: data-aware {aware:F4}, weight error only {plain:F4}");
        Assert.True(aware < 0.5 * plain);
    }

    [Fact]
    public void SettingBytesCountPackedValuesIndicesAndScales()
    {
        // B [16, 784] half kept at 4 bits: 16·392·4/8 values + 16·392·2 index bytes; A [100, 16] dense: 100·16·4/8; 16·8 scale bytes.
        var setting = new FactorSetting(16, 392, 16, 4);
        Assert.Equal(16 * 392 / 2 + 16 * 392 * 2 + 100 * 16 / 2 + 16 * 8, setting.Bytes(100, 784));
    }

    [Theory]
    [InlineData("none", 8, 12.0, null, null, null, "need Compression")]
    [InlineData("factorized", 8, null, null, null, null, "either CompressionRatio")]
    [InlineData("factorized", 8, 12.0, 8, null, null, "not both")]
    [InlineData("factorized", 8, 1.0, null, null, null, "CompressionRatio=1")]
    [InlineData("factorized", 8, null, 0, null, null, "FactorRank=0")]
    [InlineData("factorized", 8, null, 300, null, null, "FactorRank=300")]
    [InlineData("factorized", 8, 12.0, null, 0.99, null, "FactorSparsity=0.99")]
    [InlineData("factorized", 8, 12.0, null, null, 9, "FactorBits=9")]
    [InlineData("factorized", 16, 12.0, null, null, null, "ActivationBits=16")]
    public void BadFactorizationOptionsAreQG0015(string compression, int activationBits, double? ratio, int? rank, double? sparsity, int? bits, string words)
    {
        var options = new QuantizationOptions
        {
            ActivationBits = activationBits,
            Compression = CompressionOptions.ParseCompression(compression),
            CompressionRatio = ratio,
            FactorRank = rank,
            FactorSparsity = sparsity,
            FactorBits = bits,
        };
        var e = Assert.Throws<ModelException>(options.Validate);
        Assert.Equal(ErrorCodes.InvalidOption, e.Code);
        Assert.Contains(words, e.Message);
    }

    [Fact]
    public void OptionTextsParseOrAreQG0015()
    {
        Assert.Equal(WeightCompression.Factorized, CompressionOptions.ParseCompression(" Factorized "));
        Assert.Equal(WeightCompression.None, CompressionOptions.ParseCompression(""));
        Assert.Equal(12.5, CompressionOptions.ParseRatio("12.5"));
        Assert.Equal(ErrorCodes.InvalidOption, Assert.Throws<ModelException>(() => CompressionOptions.ParseCompression("zip")).Code);
        Assert.Equal(ErrorCodes.InvalidOption, Assert.Throws<ModelException>(() => CompressionOptions.ParseRatio("twelve")).Code);
        Assert.Equal(ErrorCodes.InvalidOption, Assert.Throws<ModelException>(() => CompressionOptions.ParseInt("FactorRank", "8.5")).Code);
        Assert.Equal(ErrorCodes.InvalidOption, Assert.Throws<ModelException>(() => CompressionOptions.ParseSparsity("half")).Code);
    }

    internal static (float[] W, int M, int K) RandomWeights(int m, int k, int seed)
    {
        // Decaying singular values, as trained layers have: low rank is a fair but not exact approximation.
        var random = new Random(seed);
        int r = Math.Min(m, k);
        var u = Enumerable.Range(0, m * r).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var v = Enumerable.Range(0, r * k).Select(i => (float)((random.NextDouble() * 2 - 1) / (1 + i / k))).ToArray();
        return (Multiply(u, v, m, r, k), m, k);
    }

    private static float[] Multiply(float[] a, float[] b, int m, int k, int n)
    {
        var c = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++)
                for (int j = 0; j < n; j++) c[i * n + j] += a[i * k + p] * b[p * n + j];
        return c;
    }
}
