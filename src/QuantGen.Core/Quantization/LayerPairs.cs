using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;

namespace QuantGen.Core.Quantization;

/// <summary>
/// Two weighted layers where the first's output channels feed the second's input channels and nothing else reads
/// them: the unit that equalization and bias absorption rescale. Between them may sit max/average pooling (which
/// commute with a positive per-channel scale and with subtracting a per-channel constant) and a flatten from NCHW
/// to [N, C·H·W] (channel i then owns <see cref="Block"/> consecutive input features of the second layer).
/// </summary>
internal sealed record LayerPair(FloatLayer First, FloatLayer Second, IReadOnlyList<FloatLayer> Between, int Block)
{
    /// <summary>Channels coupled by the pair (the first layer's outputs).</summary>
    public int Channels => First.OutputChannels;

    /// <summary>Indices into the second layer's weights that multiply input channel <paramref name="channel"/>.</summary>
    public IEnumerable<int> SecondWeights(int channel)
    {
        var w = Second.WeightShape!;
        if (Second.Kind == LayerKinds.FullyConnected)
        {
            int k = w[1];
            for (int o = 0; o < w[0]; o++)
                for (int j = 0; j < Block; j++) yield return o * k + channel * Block + j;
            yield break;
        }
        int cg = w[1], taps = w[2] * w[3], mg = w[0] / Second.Group, g = channel / cg, ci = channel % cg;
        for (int o = g * mg; o < (g + 1) * mg; o++)
            for (int t = 0; t < taps; t++) yield return (o * cg + ci) * taps + t;
    }

    /// <summary>Largest |weight| of the first layer's output channel.</summary>
    public float FirstRange(int channel)
    {
        int fanIn = First.FanIn;
        float max = 0;
        for (int i = 0; i < fanIn; i++) max = MathF.Max(max, MathF.Abs(First.Weights![channel * fanIn + i]));
        return max;
    }

    /// <summary>Largest |weight| of the second layer reading the channel.</summary>
    public float SecondRange(int channel)
    {
        float max = 0;
        foreach (var i in SecondWeights(channel)) max = MathF.Max(max, MathF.Abs(Second.Weights![i]));
        return max;
    }

    /// <summary>
    /// True when subtracting a per-channel constant from the first layer's output can be undone exactly by the
    /// second layer's bias: no zero padding in the second layer and no average over padded windows in between.
    /// </summary>
    public bool ShiftIsExact =>
        (Second.Kind == LayerKinds.FullyConnected || Second.Pads.All(p => p == 0))
        && Between.All(b => b.Kind != LayerKinds.AveragePool || !b.CountIncludePad || b.Pads.All(p => p == 0));

    /// <summary>Every pair in the layer list, in execution order.</summary>
    public static List<LayerPair> Find(IReadOnlyList<FloatLayer> layers, Graph graph)
    {
        var outputs = graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var readers = new Dictionary<string, List<FloatLayer>>(StringComparer.Ordinal);
        foreach (var layer in layers)
            foreach (var input in layer.Inputs.Distinct())
            {
                if (!readers.TryGetValue(input, out var list)) readers[input] = list = new List<FloatLayer>();
                list.Add(layer);
            }

        var pairs = new List<LayerPair>();
        foreach (var first in layers.Where(IsWeighted))
        {
            if (!first.IsPositivelyHomogeneous) continue;
            var between = new List<FloatLayer>();
            int block = 1;
            var value = first.Output;
            while (!outputs.Contains(value) && readers.TryGetValue(value, out var next) && next.Count == 1)
            {
                var layer = next[0];
                if (IsWeighted(layer))
                {
                    if (layer.Inputs[0] == value && InputChannels(layer, block) == first.OutputChannels)
                        pairs.Add(new LayerPair(first, layer, between, block));
                    break;
                }
                if (layer.Kind == LayerKinds.MaxPool
                    || (layer.Kind == LayerKinds.AveragePool && layer.IsPositivelyHomogeneous && float.IsPositiveInfinity(layer.ClampMax)))
                {
                    between.Add(layer);
                }
                else if (layer.Kind == LayerKinds.Reshape && block == 1 && IsFlatten(graph, value, layer.Output, out int planeSize))
                {
                    block = planeSize;
                    between.Add(layer);
                }
                else
                {
                    break;
                }
                value = layer.Output;
            }
        }
        return pairs;
    }

    private static bool IsWeighted(FloatLayer layer) => layer.Kind is LayerKinds.Conv or LayerKinds.FullyConnected;

    private static int InputChannels(FloatLayer layer, int block) =>
        layer.Kind == LayerKinds.FullyConnected ? (layer.FanIn % block == 0 ? layer.FanIn / block : -1) : layer.WeightShape![1] * layer.Group;

    /// <summary>[N, C, H, W] → [N, C·H·W]: channel c becomes features c·H·W … (c+1)·H·W − 1.</summary>
    private static bool IsFlatten(Graph graph, string from, string to, out int planeSize)
    {
        var a = graph.ValueInfos[from].Shape;
        var b = graph.ValueInfos[to].Shape;
        planeSize = a.Length == 4 ? a[2] * a[3] : 1;
        return a.Length == 4 && b.Length == 2 && b[0] == a[0] && b[1] == a[1] * a[2] * a[3];
    }
}
