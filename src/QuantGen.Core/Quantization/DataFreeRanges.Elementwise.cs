using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>Data-free moments and ranges of the elementwise kinds (Lookup, Affine, Mul, Concat).</summary>
internal static partial class DataFreeRanges
{
    /// <summary>
    /// Element-wise moments: a table's through three sigma points (μ, μ ± σ√3, weights 2/3, 1/6, 1/6: exact for
    /// polynomials up to degree 5), Affine's exactly, Mul's of independent factors, Concat's gathered in output order.
    /// </summary>
    private static (double[], double[]) Elementwise(FloatLayer layer, Graph graph, Dictionary<string, (double[] Mean, double[] Var)> moments)
    {
        var x = moments[layer.Inputs[0]];
        int n = x.Mean.Length;
        var mean = new double[layer.Kind == LayerKinds.Concat ? graph.ValueInfos[layer.Output].ElementCount : n];
        var variance = new double[mean.Length];
        switch (layer.Kind)
        {
            case LayerKinds.Lookup:
            {
                var f = layer.Function!.Evaluate;
                for (int i = 0; i < n; i++)
                {
                    double spread = Math.Sqrt(3 * x.Var[i]);
                    double f0 = f(x.Mean[i]), f1 = f(x.Mean[i] - spread), f2 = f(x.Mean[i] + spread);
                    mean[i] = (4 * f0 + f1 + f2) / 6;
                    variance[i] = Math.Max(0, (4 * f0 * f0 + f1 * f1 + f2 * f2) / 6 - mean[i] * mean[i]);
                }
                break;
            }
            case LayerKinds.Affine:
                for (int i = 0; i < n; i++)
                {
                    int c = i / layer.BroadcastInner % layer.BroadcastChannels;
                    double s = layer.AffineScale![c];
                    mean[i] = x.Mean[i] * s + layer.AffineOffset![c];
                    variance[i] = x.Var[i] * s * s;
                }
                break;
            case LayerKinds.Mul:
            {
                var b = moments[layer.Inputs[1]];
                for (int i = 0; i < n; i++)
                {
                    int j = i / layer.BroadcastInner;
                    double ma = x.Mean[i], mb = b.Mean[j];
                    mean[i] = ma * mb;
                    variance[i] = Math.Max(0, (x.Var[i] + ma * ma) * (b.Var[j] + mb * mb) - ma * ma * mb * mb);
                }
                break;
            }
            default:
            {
                var outShape = graph.ValueInfos[layer.Output].Shape;
                int outer = 1;
                for (int d = 0; d < layer.Axis; d++) outer *= outShape[d];
                int offset = 0;
                foreach (var input in layer.Inputs)
                {
                    var m = moments[input];
                    int chunk = m.Mean.Length / outer, stride = mean.Length / outer;
                    for (int o = 0; o < outer; o++)
                    {
                        Array.Copy(m.Mean, o * chunk, mean, o * stride + offset, chunk);
                        Array.Copy(m.Var, o * chunk, variance, o * stride + offset, chunk);
                    }
                    offset += chunk;
                }
                break;
            }
        }
        return (mean, variance);
    }

    /// <summary>
    /// The ranges that do not come from moments: a table's is its function's image of the input range (sampled at
    /// 1025 points), Concat's the union of its inputs'. Null for the other kinds.
    /// </summary>
    private static (float Min, float Max)? ElementwiseRange(FloatLayer layer, Dictionary<string, (float Min, float Max)> ranges)
    {
        if (layer.Kind == LayerKinds.Concat)
            return (layer.Inputs.Min(i => ranges[i].Min), layer.Inputs.Max(i => ranges[i].Max));
        if (layer.Kind != LayerKinds.Lookup) return null;
        var (lo, hi) = ranges[layer.Inputs[0]];
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (int i = 0; i <= 1024; i++)
        {
            double v = layer.Function!.Evaluate(lo + (hi - (double)lo) * i / 1024);
            min = Math.Min(min, v);
            max = Math.Max(max, v);
        }
        return ((float)min, (float)max);
    }

    private static (double[], double[]) Negated((double[] Mean, double[] Var) x) => (x.Mean.Select(v => -v).ToArray(), x.Var);
}
