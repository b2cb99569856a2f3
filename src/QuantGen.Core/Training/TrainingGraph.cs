using System.Numerics;
using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;

namespace QuantGen.Core.Training;

/// <summary>
/// Reverse-mode differentiation over the quantizer's layer list (<see cref="FloatLayer"/>: BN folded, activations
/// fused), so gradients land on exactly the weights, biases and grids the artifact is built from. Forward is the
/// float function <see cref="LayerExecutor"/> computes, in <typeparamref name="T"/> (float for training, double for
/// gradient checks); optional LSQ+ fake-quantizers (<see cref="Lsq"/>) sit on weights (per output channel,
/// symmetric) and on any value (per tensor, asymmetric).
/// <para>
/// Parameters are flat arrays (<see cref="Parameters"/>); a gradient is an array of arrays of the same lengths.
/// <see cref="Gradient"/> runs a batch: samples are cut into shards of <see cref="ShardSize"/> in order, each shard
/// runs its samples one after another into its own gradient, the shards run in parallel, and their gradients are
/// summed in shard order. The partition does not depend on the thread count, so the result is bit-identical at any
/// thread count.
/// </para>
/// </summary>
internal sealed partial class TrainingGraph<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Samples per shard (the unit of parallel work and of the fixed reduction order).</summary>
    public const int ShardSize = 4;

    private readonly Graph _graph;
    private readonly LayerSlots[] _slots;
    private readonly Dictionary<string, ValueQuantizer> _valueQuantizers = new(StringComparer.Ordinal);
    private readonly List<string> _names = new();

    /// <param name="graph">The prepared graph (value shapes for one sample).</param>
    /// <param name="layers">The layers in execution order (as <see cref="LayerExecutor.Run"/> takes them).</param>
    /// <param name="output">The value the loss reads (e.g. the logits before a Softmax tail).</param>
    /// <param name="modelPath">For diagnostics.</param>
    /// <param name="factors">Train factorized layers as their factors (TrainingGraph.Factorized.cs); false reads every weighted layer's float weights (the teacher).</param>
    public TrainingGraph(Graph graph, IReadOnlyList<FloatLayer> layers, string output, string? modelPath = null, bool factors = false)
    {
        _graph = graph;
        Output = output;
        int last = -1;
        for (int i = 0; i < layers.Count; i++)
            if (layers[i].Output == output) last = i;
        if (last < 0 && !graph.Inputs.Any(v => v.Name == output))
            throw new ModelException(ErrorCodes.InternalError, $"Training: no layer produces '{output}'.", modelPath);
        Layers = layers.Take(last + 1).ToArray();
        _slots = new LayerSlots[Layers.Count];
        for (int i = 0; i < Layers.Count; i++)
        {
            var layer = Layers[i];
            CheckDifferentiable(layer, modelPath);
            _slots[i] = new LayerSlots { Weights = -1, Bias = -1, WeightScales = -1 };
            if (factors && layer.Factorization is not null) AddFactors(i, layer);
            else if (layer.Kind is LayerKinds.Conv or LayerKinds.FullyConnected)
            {
                _slots[i].Weights = Add($"{layer.Name}.weights", Convert(layer.Weights!));
                _slots[i].Bias = Add($"{layer.Name}.bias", Convert(layer.Bias!));
            }
        }
    }

    /// <summary>The layers up to the one producing <see cref="Output"/>.</summary>
    public IReadOnlyList<FloatLayer> Layers { get; }

    public string Output { get; }

    /// <summary>Every trainable array: weights and biases of Conv/FullyConnected layers, weight scales, value grids [s, β].</summary>
    public List<T[]> Parameters { get; } = new();

    /// <summary>A name per entry of <see cref="Parameters"/> ("layer.weights", "layer.bias", "layer.weightScales", "value.grid").</summary>
    public IReadOnlyList<string> ParameterNames => _names;

    /// <summary>The parameter index of a layer's weights, bias and weight scales (−1 when it has none).</summary>
    public (int Weights, int Bias, int WeightScales) SlotsOf(FloatLayer layer)
    {
        int i = Array.IndexOf((FloatLayer[])Layers, layer);
        return i < 0 ? (-1, -1, -1) : (_slots[i].Weights, _slots[i].Bias, _slots[i].WeightScales);
    }

    /// <summary>The parameter index of a value's grid [s, β] (−1 when it is not fake-quantized).</summary>
    public int GridSlotOf(string value) => _valueQuantizers.TryGetValue(value, out var q) ? q.Slot : -1;

    /// <summary>Fake-quantizes a layer's weights: per output channel, symmetric ±(2^(b−1) − 1), learnable scales.</summary>
    public int QuantizeWeights(FloatLayer layer, float[] scales, int bits)
    {
        int i = Array.IndexOf((FloatLayer[])Layers, layer);
        if (i < 0 || _slots[i].Weights < 0) throw new ArgumentException($"{layer.Name} has no weights to quantize.", nameof(layer));
        _slots[i].WeightScales = Add($"{layer.Name}.weightScales", Convert(scales));
        _slots[i].WeightLevel = WeightQuantizer.MaxLevel(bits);
        return _slots[i].WeightScales;
    }

    /// <summary>Fake-quantizes a value (a graph input or a layer output): grid s·(q − z), q ∈ [qmin, qmax], held as LSQ+ (s, β = −s·z).</summary>
    public int QuantizeValue(string value, float scale, int zeroPoint, int qmin, int qmax)
    {
        int slot = Add($"{value}.grid", [T.CreateChecked(scale), -T.CreateChecked(scale) * T.CreateChecked(zeroPoint)]);
        // (x − β)/s = x/s + z, so the grid's index range is LSQ+'s [n, p] and x̂ = s·(⌊x/s⌉ + z − z) as the integer model has it.
        _valueQuantizers[value] = new ValueQuantizer(slot, T.CreateChecked(qmin), T.CreateChecked(qmax));
        return slot;
    }

    /// <summary>A zeroed gradient shaped like <see cref="Parameters"/>.</summary>
    public T[][] NewGradient() => Parameters.Select(p => new T[p.Length]).ToArray();

    /// <summary>The output (<see cref="Output"/>) for one sample (inputs by graph input name).</summary>
    public T[] Evaluate(IReadOnlyDictionary<string, T[]> inputs)
    {
        var state = Prepare();
        return Forward(state, inputs).Values[Output];
    }

    /// <summary>The output for each sample of <paramref name="batch"/> (one weight quantization shared by all, samples in parallel; each result is independent of the thread count).</summary>
    public T[][] Evaluate(IReadOnlyList<IReadOnlyDictionary<string, T[]>> batch, int threads)
    {
        var state = Prepare();
        var outputs = new T[batch.Count][];
        Parallel.For(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, s => outputs[s] = Forward(state, batch[s]).Values[Output]);
        return outputs;
    }

    /// <summary>
    /// Each sample's values <paramref name="names"/> as the next layers read them (after fake quantization), in the
    /// order of <paramref name="names"/> (samples in parallel; each result is independent of the thread count).
    /// </summary>
    public T[][][] EvaluateValues(IReadOnlyList<IReadOnlyDictionary<string, T[]>> batch, IReadOnlyList<string> names, int threads)
    {
        var state = Prepare();
        var values = new T[batch.Count][][];
        Parallel.For(0, batch.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, s =>
        {
            var tape = Forward(state, batch[s]);
            values[s] = names.Select(n => tape.Values[n]).ToArray();
        });
        return values;
    }

    /// <summary>
    /// The summed loss over the batch and its gradient with respect to every parameter. <paramref name="loss"/>
    /// gets the sample index and its output and returns the sample's loss and ∂loss/∂output. With
    /// <paramref name="features"/>, <paramref name="featureLoss"/> adds a loss on intermediate values too: it gets the
    /// sample index, the feature's index in <paramref name="features"/> and the value as the next layers read it, and
    /// returns that term and its gradient, which enters the backward pass at the value.
    /// </summary>
    public (double Loss, T[][] Gradient) Gradient(IReadOnlyList<IReadOnlyDictionary<string, T[]>> batch, Func<int, T[], (double Loss, T[] Gradient)> loss, int threads,
        IReadOnlyList<string>? features = null, Func<int, int, T[], (double Loss, T[] Gradient)>? featureLoss = null)
    {
        if (features is { Count: > 0 } && (featureLoss is null || features.Any(f => f == Output || !Layers.Any(l => l.Output == f))))
            throw new ArgumentException("Feature losses need a loss function and values produced by a layer before the output.", nameof(features));
        var state = Prepare();
        int shards = (batch.Count + ShardSize - 1) / ShardSize;
        var shardGradients = new T[shards][][];
        var shardLosses = new double[shards];
        Parallel.For(0, shards, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, shard =>
        {
            var gradient = NewGradient();
            var effective = NewEffectiveGradient(state);
            double sum = 0;
            for (int s = shard * ShardSize; s < Math.Min(batch.Count, (shard + 1) * ShardSize); s++)
            {
                var tape = Forward(state, batch[s]);
                var (value, dOutput) = loss(s, tape.Values[Output]);
                sum += value;
                var seeds = new Dictionary<string, T[]>(StringComparer.Ordinal) { [Output] = (T[])dOutput.Clone() };
                for (int f = 0; f < (features?.Count ?? 0); f++)
                {
                    var (term, dFeature) = featureLoss!(s, f, tape.Values[features![f]]);
                    sum += term;
                    Accumulate(seeds, features[f], dFeature);
                }
                Backward(state, tape, seeds, gradient, effective);
            }
            FinishWeightGradients(effective, gradient);
            shardGradients[shard] = gradient;
            shardLosses[shard] = sum;
        });
        var total = NewGradient();
        double totalLoss = 0;
        for (int shard = 0; shard < shards; shard++)
        {
            totalLoss += shardLosses[shard];
            for (int p = 0; p < total.Length; p++)
                System.Numerics.Tensors.TensorPrimitives.Add<T>(total[p], shardGradients[shard][p], total[p]);
        }
        return (totalLoss, total);
    }

    private int Add(string name, T[] values)
    {
        Parameters.Add(values);
        _names.Add(name);
        return Parameters.Count - 1;
    }

    private static T[] Convert(float[] values)
    {
        var result = new T[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = T.CreateChecked(values[i]);
        return result;
    }

    private static void CheckDifferentiable(FloatLayer layer, string? modelPath)
    {
        if (layer.IsFloatOp)
            throw new ModelException(ErrorCodes.NoGradient,
                $"Fine-tuning: the float-island node runs {layer.FloatNode!.OpType} in float, which has no gradient rule; fine-tune a model without float islands.", modelPath, layer.Name);
        if (layer.Kind == LayerKinds.Lookup && layer.Function!.Derivative is null)
            throw new ModelException(ErrorCodes.NoGradient, $"Fine-tuning: the Lookup function {layer.Function.Name} has no derivative.", modelPath, layer.Name);
        if (layer.Kind is not (LayerKinds.Conv or LayerKinds.FullyConnected or LayerKinds.MaxPool or LayerKinds.AveragePool or LayerKinds.Add
            or LayerKinds.Reshape or LayerKinds.Softmax or LayerKinds.Sigmoid or LayerKinds.Lookup or LayerKinds.Affine or LayerKinds.Mul or LayerKinds.Concat))
            throw new ModelException(ErrorCodes.NoGradient, $"Fine-tuning: layer kind {layer.Kind} has no gradient rule.", modelPath, layer.Name);
    }

    private struct LayerSlots
    {
        public int Weights;
        public int Bias;
        public int WeightScales;
        public int WeightLevel;
    }

    private sealed record ValueQuantizer(int Slot, T N, T P);

    private int[] Shape(string value) => _graph.ValueInfos[value].Shape;
}
