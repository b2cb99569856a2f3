using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Activation ranges without data (DFQ, arXiv 1906.04721 §4): every value is modelled element-wise as an
/// independent Gaussian. A layer with a folded BatchNormalization takes its pre-activation statistics from the BN
/// (channel o ~ N(β_o, γ_o²)); other layers propagate mean and variance through their weights; fused clamps use
/// the clipped-normal moments. The range of a value is [μ − kσ, μ + kσ] over its elements, clipped to the
/// activation's bounds. The model inputs have the distributions the user states (<see cref="InputStatistics"/>): without
/// samples there is nothing else to go on, and a guess (this used to assume [0, 1]) silently ruins models whose inputs
/// are normalised otherwise.
/// </summary>
internal static partial class DataFreeRanges
{
    /// <summary>Standard deviations covered by a range (±4σ keeps 99.994% of a Gaussian).</summary>
    private const double Sigmas = 4;

    /// <summary>
    /// The ranges, and the element-wise moments (mean, variance) of every value: analytic bias correction reads the means.
    /// <paramref name="inputs"/> is <see cref="ResolveInputs"/>'s answer: every graph input by name.
    /// </summary>
    public static Dictionary<string, (float Min, float Max)> Estimate(Graph graph, List<FloatLayer> layers, Dictionary<FloatLayer, FoldedBatchNorm> batchNorms,
        IReadOnlyDictionary<string, InputStatistics> inputs, string? modelPath, out Dictionary<string, (double[] Mean, double[] Var)> moments)
    {
        moments = new Dictionary<string, (double[] Mean, double[] Var)>(StringComparer.Ordinal);
        var ranges = new Dictionary<string, (float Min, float Max)>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs)
        {
            int n = graph.ValueInfos[input.Name].ElementCount;
            var statistics = inputs[input.Name];
            moments[input.Name] = (Filled(n, statistics.Mean), Filled(n, statistics.Variance));
            ranges[input.Name] = (statistics.Min, statistics.Max);
        }

        // Float islands: bounded by running the float layers on inputs drawn from the stated ranges (FloatIslands.Sample).
        var sampled = FloatIslands.Sample(graph, layers, inputs);
        foreach (var layer in layers)
        {
            if (layer.IsFloatTail) continue;
            if (sampled.TryGetValue(layer.Output, out var island))
            {
                moments[layer.Output] = (island.Mean, island.Var);
                ranges[layer.Output] = island.Range;
                continue;
            }
            var outShape = graph.ValueInfos[layer.Output].Shape;
            (double[] Mean, double[] Var) result = layer.Kind switch
            {
                LayerKinds.Conv => Conv(layer, batchNorms.GetValueOrDefault(layer), moments[layer.Inputs[0]], graph.ValueInfos[layer.Inputs[0]].Shape, outShape),
                LayerKinds.FullyConnected => FullyConnected(layer, moments[layer.Inputs[0]]),
                LayerKinds.MaxPool or LayerKinds.AveragePool => Pool(layer, moments[layer.Inputs[0]], graph.ValueInfos[layer.Inputs[0]].Shape, outShape),
                LayerKinds.Add => Add(moments[layer.Inputs[0]], layer.Subtract ? Negated(moments[layer.Inputs[1]]) : moments[layer.Inputs[1]]),
                LayerKinds.Lookup or LayerKinds.Affine or LayerKinds.Mul or LayerKinds.Concat => Elementwise(layer, graph, moments), // DataFreeRanges.Elementwise.cs
                LayerKinds.Reshape => moments[layer.Inputs[0]],
                LayerKinds.Remap => Remapped(layer, moments[layer.Inputs[0]]),
                LayerKinds.Resize => Resized(layer, moments[layer.Inputs[0]], graph.ValueInfos[layer.Inputs[0]].Shape),
                LayerKinds.MatMul => MatMul(layer, graph, moments[layer.Inputs[0]], moments[layer.Inputs[1]]), // DataFreeRanges.MatMul.cs
                _ => throw new ModelException(ErrorCodes.InternalError, $"No data-free rule for {layer.Kind}.", modelPath, layer.Name),
            };
            var preActivation = result;
            if (layer.LeakyAlpha is { } alpha)
                result = Leaky(result, alpha);
            float highest = layer.ChannelClampMax?.Max() ?? layer.ClampMax;
            if (!float.IsNegativeInfinity(layer.ClampMin) || !float.IsPositiveInfinity(highest))
                result = Clip(result, layer, LayerExecutor.ChannelLayout(outShape));
            moments[layer.Output] = result;
            ranges[layer.Output] = layer.Kind is LayerKinds.MaxPool or LayerKinds.Reshape or LayerKinds.Remap or LayerKinds.Resize
                ? ranges[layer.Inputs[0]]
                : layer.LeakyAlpha is { } slope
                    ? LeakyRange(Range(preActivation, float.NegativeInfinity, float.PositiveInfinity), slope, layer.ClampMin, highest)
                    : Range(result, layer.ClampMin, highest);
            if (ElementwiseRange(layer, ranges) is { } exact) ranges[layer.Output] = exact;
        }
        return ranges;
    }

    private static (double[], double[]) Conv(FloatLayer layer, FoldedBatchNorm? bn, (double[] Mean, double[] Var) x, int[] inShape, int[] outShape)
    {
        int m = outShape[1], oh = outShape[2], ow = outShape[3], plane = oh * ow;
        var mean = new double[m * plane];
        var variance = new double[m * plane];
        if (bn is not null)
        {
            // The BN output is what the folded conv now computes: its learned shift and scale are the statistics.
            for (int o = 0; o < m; o++)
                for (int i = 0; i < plane; i++)
                {
                    mean[o * plane + i] = bn.Beta[o];
                    variance[o * plane + i] = (double)bn.Gamma[o] * bn.Gamma[o];
                }
            return (mean, variance);
        }
        int c = inShape[1], h = inShape[2], w = inShape[3], cg = c / layer.Group, mg = m / layer.Group;
        int kh = layer.Kernel[0], kw = layer.Kernel[1];
        for (int o = 0; o < m; o++)
        {
            int g = o / mg;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    double mu = layer.Bias![o], v = 0;
                    for (int ci = 0; ci < cg; ci++)
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int iy = oy * layer.Strides[0] - layer.Pads[0] + ky * layer.Dilations[0];
                                int ix = ox * layer.Strides[1] - layer.Pads[1] + kx * layer.Dilations[1];
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                double wt = layer.Weights![((o * cg + ci) * kh + ky) * kw + kx];
                                int index = ((g * cg + ci) * h + iy) * w + ix;
                                mu += wt * x.Mean[index];
                                v += wt * wt * x.Var[index];
                            }
                    mean[o * plane + oy * ow + ox] = mu;
                    variance[o * plane + oy * ow + ox] = v;
                }
        }
        return (mean, variance);
    }

    private static (double[], double[]) FullyConnected(FloatLayer layer, (double[] Mean, double[] Var) x)
    {
        int m = layer.OutputChannels, k = layer.FanIn, rows = x.Mean.Length / k;
        var mean = new double[rows * m];
        var variance = new double[rows * m];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < m; o++)
            {
                double mu = layer.Bias![o], v = 0;
                for (int i = 0; i < k; i++)
                {
                    double wt = layer.Weights![o * k + i];
                    mu += wt * x.Mean[r * k + i];
                    v += wt * wt * x.Var[r * k + i];
                }
                mean[r * m + o] = mu;
                variance[r * m + o] = v;
            }
        return (mean, variance);
    }

    /// <summary>Pooling keeps the window's largest mean (max) or its average mean (average) and the window's largest variance (conservative: neighbours are correlated).</summary>
    private static (double[], double[]) Pool(FloatLayer layer, (double[] Mean, double[] Var) x, int[] inShape, int[] outShape)
    {
        bool isMax = layer.Kind == LayerKinds.MaxPool;
        int nc = inShape[0] * inShape[1], h = inShape[2], w = inShape[3], oh = outShape[2], ow = outShape[3];
        var mean = new double[nc * oh * ow];
        var variance = new double[mean.Length];
        for (int p = 0; p < nc; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    double best = double.NegativeInfinity, sum = 0, v = 0;
                    int count = 0;
                    for (int ky = 0; ky < layer.Kernel[0]; ky++)
                        for (int kx = 0; kx < layer.Kernel[1]; kx++)
                        {
                            int iy = oy * layer.Strides[0] - layer.Pads[0] + ky * layer.Dilations[0];
                            int ix = ox * layer.Strides[1] - layer.Pads[1] + kx * layer.Dilations[1];
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            int index = (p * h + iy) * w + ix;
                            best = Math.Max(best, x.Mean[index]);
                            sum += x.Mean[index];
                            v = Math.Max(v, x.Var[index]);
                            count++;
                        }
                    int o = (p * oh + oy) * ow + ox;
                    mean[o] = count == 0 ? 0 : isMax ? best : sum / count;
                    variance[o] = v;
                }
        return (mean, variance);
    }

    private static (double[], double[]) Add((double[] Mean, double[] Var) a, (double[] Mean, double[] Var) b)
    {
        var mean = new double[a.Mean.Length];
        var variance = new double[a.Mean.Length];
        for (int i = 0; i < mean.Length; i++)
        {
            mean[i] = a.Mean[i] + b.Mean[i];
            variance[i] = a.Var[i] + b.Var[i];
        }
        return (mean, variance);
    }

    /// <summary>
    /// Moments of LeakyRelu(N(μ, σ²)) = r + α·n with r = max(x, 0), n = min(x, 0), element-wise: r·n = 0, so
    /// E[y] = E[r] + α·E[n] and E[y²] = E[r²] + α²·E[n²], each part a clipped normal.
    /// </summary>
    private static (double[], double[]) Leaky((double[] Mean, double[] Var) x, float alpha)
    {
        var mean = new double[x.Mean.Length];
        var variance = new double[x.Mean.Length];
        for (int i = 0; i < mean.Length; i++)
        {
            double sigma = Math.Sqrt(x.Var[i]);
            var (rm, rv) = ClippedNormal.Moments(x.Mean[i], sigma, 0, double.PositiveInfinity);
            var (nm, nv) = ClippedNormal.Moments(x.Mean[i], sigma, double.NegativeInfinity, 0);
            mean[i] = rm + alpha * nm;
            double second = rv + rm * rm + (double)alpha * alpha * (nv + nm * nm);
            variance[i] = Math.Max(0, second - mean[i] * mean[i]);
        }
        return (mean, variance);
    }

    /// <summary>LeakyRelu is monotonic: the pre-activation's μ ± kσ range mapped through it, then clipped.</summary>
    private static (float, float) LeakyRange((float Min, float Max) pre, float alpha, float lo, float hi)
    {
        static float Leak(float v, float a) => v >= 0 ? v : a * v;
        return (MathF.Max(Leak(pre.Min, alpha), lo), MathF.Min(Leak(pre.Max, alpha), hi));
    }

    /// <summary>Moments of clip(N(μ, σ²), lo, hi), element-wise.</summary>
    private static (double[], double[]) Clip((double[] Mean, double[] Var) x, FloatLayer layer, (int Channels, int Inner) layout)
    {
        var mean = new double[x.Mean.Length];
        var variance = new double[x.Mean.Length];
        for (int i = 0; i < mean.Length; i++)
            (mean[i], variance[i]) = ClippedNormal.Moments(x.Mean[i], Math.Sqrt(x.Var[i]), layer.ClampMin, layer.ClampMaxOf(i / layout.Inner % layout.Channels));
        return (mean, variance);
    }

    private static (float, float) Range((double[] Mean, double[] Var) x, float lo, float hi)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (int i = 0; i < x.Mean.Length; i++)
        {
            double sigma = Math.Sqrt(x.Var[i]);
            min = Math.Min(min, x.Mean[i] - Sigmas * sigma);
            max = Math.Max(max, x.Mean[i] + Sigmas * sigma);
        }
        return ((float)Math.Max(min, lo), (float)Math.Min(max, hi));
    }

    /// <summary>
    /// The stated distribution of every graph input (its own entry, else the one for every input), in graph order; an
    /// input with neither is QG0021, saying what to add. Resolved once per build: the ranges, the report and the
    /// artifact's metadata all read this.
    /// </summary>
    public static IReadOnlyDictionary<string, InputStatistics> ResolveInputs(IReadOnlyDictionary<string, InputStatistics> stated, Graph graph, string? modelPath)
    {
        var resolved = new Dictionary<string, InputStatistics>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs) resolved[input.Name] = Statistics(stated, input.Name, graph, modelPath);
        return resolved;
    }

    private static InputStatistics Statistics(IReadOnlyDictionary<string, InputStatistics> inputs, string name, Graph graph, string? modelPath)
    {
        if (inputs.TryGetValue(name, out var statistics) || inputs.TryGetValue("", out statistics)) return statistics;
        var which = graph.Inputs.Count == 1 ? "" : $"{name}=";
        throw new ModelException(ErrorCodes.MissingInputRange,
            $"A data-free build (no Calibration) needs the range of input '{name}', which QuantGen cannot measure without samples. Add to the QuantModel item "
            + $"InputRange=\"{which}MIN,MAX\" (e.g. InputRange=\"{which}0,1\" for pixels scaled to [0, 1], \"{which}-1,1\" for [-1, 1]), or InputMean=\"{which}M\" InputStd=\"{which}S\" "
            + "(the normalisation the inputs had in training), or Calibration=\"samples.npy\" (CLI: --input-range, --input-mean/--input-std, --calibration).", modelPath);
    }

    private static double[] Filled(int n, double value)
    {
        var a = new double[n];
        Array.Fill(a, value);
        return a;
    }
}

/// <summary>Mean and variance of a Gaussian clipped to [lo, hi] (either bound may be infinite).</summary>
internal static class ClippedNormal
{
    public static (double Mean, double Variance) Moments(double mu, double sigma, double lo, double hi)
    {
        if (sigma <= 1e-12)
        {
            double c = Math.Clamp(mu, lo, hi);
            return (c, 0);
        }
        double a = (lo - mu) / sigma, b = (hi - mu) / sigma;
        double cdfA = double.IsNegativeInfinity(lo) ? 0 : Cdf(a), cdfB = double.IsPositiveInfinity(hi) ? 1 : Cdf(b);
        double pdfA = double.IsNegativeInfinity(lo) ? 0 : Pdf(a), pdfB = double.IsPositiveInfinity(hi) ? 0 : Pdf(b);
        double loMass = double.IsNegativeInfinity(lo) ? 0 : lo * cdfA, hiMass = double.IsPositiveInfinity(hi) ? 0 : hi * (1 - cdfB);
        double inside = cdfB - cdfA;
        double mean = loMass + hiMass + mu * inside + sigma * (pdfA - pdfB);
        double aPdfA = double.IsNegativeInfinity(lo) ? 0 : a * pdfA, bPdfB = double.IsPositiveInfinity(hi) ? 0 : b * pdfB;
        double second = (double.IsNegativeInfinity(lo) ? 0 : lo * lo * cdfA) + (double.IsPositiveInfinity(hi) ? 0 : hi * hi * (1 - cdfB))
            + (mu * mu + sigma * sigma) * inside + 2 * mu * sigma * (pdfA - pdfB) + sigma * sigma * (aPdfA - bPdfB);
        return (mean, Math.Max(0, second - mean * mean));
    }

    public static double Pdf(double x) => Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);

    public static double Cdf(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2)));

    /// <summary>erf with |error| &lt; 1.2e-7 (Numerical Recipes' erfc Chebyshev fit).</summary>
    public static double Erf(double x)
    {
        double z = Math.Abs(x), t = 1 / (1 + 0.5 * z);
        double erfc = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc : erfc - 1;
    }
}
