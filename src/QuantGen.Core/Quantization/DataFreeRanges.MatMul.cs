using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>Data-free moments of a MatMul of two computed tensors.</summary>
internal static partial class DataFreeRanges
{
    /// <summary>Independent elements: E[Σ ab] = Σ μaμb, Var = Σ (σa²σb² + σa²μb² + σb²μa²), both times the folded factor.</summary>
    private static (double[], double[]) MatMul(FloatLayer layer, Graph graph, (double[] Mean, double[] Var) a, (double[] Mean, double[] Var) b)
    {
        int[] aShape = graph.ValueInfos[layer.Inputs[0]].Shape, bShape = graph.ValueInfos[layer.Inputs[1]].Shape;
        var pairs = Artifact.ArtifactGeometry.MatMulBatches(aShape, bShape, out _)!;
        int m = aShape[^2], k = aShape[^1], n = bShape[^1];
        double f = layer.MatMulFactor;
        var mean = new double[pairs.Length / 2 * m * n];
        var variance = new double[mean.Length];
        for (int t = 0; t < pairs.Length / 2; t++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double mu = 0, v = 0;
                    for (int p = 0; p < k; p++)
                    {
                        int ai = pairs[2 * t] * m * k + i * k + p, bi = pairs[2 * t + 1] * k * n + p * n + j;
                        mu += a.Mean[ai] * b.Mean[bi];
                        v += a.Var[ai] * b.Var[bi] + a.Var[ai] * b.Mean[bi] * b.Mean[bi] + b.Var[bi] * a.Mean[ai] * a.Mean[ai];
                    }
                    mean[(t * m + i) * n + j] = f * mu;
                    variance[(t * m + i) * n + j] = f * f * v;
                }
        return (mean, variance);
    }
}
