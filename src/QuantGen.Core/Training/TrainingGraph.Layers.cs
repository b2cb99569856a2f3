using System.Numerics.Tensors;
using QuantGen.Core.Artifact;
using QuantGen.Core.Ir;
using QuantGen.Core.Quantization;

namespace QuantGen.Core.Training;

/// <summary>The forward and backward rule of each layer kind, for one sample (docs/quantization.md, "Gradients").</summary>
internal sealed partial class TrainingGraph<T>
{
    /// <summary>What one step shares across samples: the weights each layer multiplies with (fake-quantized when it has a weight grid).</summary>
    private sealed class State(T[]?[] weights)
    {
        public T[]?[] Weights { get; } = weights;
    }

    /// <summary>One sample's forward values, kept for its backward pass.</summary>
    private sealed class Tape(int layers)
    {
        /// <summary>Values as the next layers read them (after fake quantization).</summary>
        public Dictionary<string, T[]> Values { get; } = new(StringComparer.Ordinal);

        /// <summary>Fake-quantized values before quantization.</summary>
        public Dictionary<string, T[]> Raw { get; } = new(StringComparer.Ordinal);

        /// <summary>Per layer, its output before the fused activation (null without one).</summary>
        public T[]?[] PreActivation { get; } = new T[]?[layers];

        /// <summary>Per layer, im2col columns (Conv) or argmax indices (MaxPool).</summary>
        public object?[] Aux { get; } = new object?[layers];
    }

    private State Prepare()
    {
        var weights = new T[]?[Layers.Count];
        for (int i = 0; i < Layers.Count; i++)
        {
            var slots = _slots[i];
            if (FactorsOf(i) is { } factors) weights[i] = PrepareFactors(factors);
            if (slots.Weights < 0) continue;
            var latent = Parameters[slots.Weights];
            if (slots.WeightScales < 0)
            {
                weights[i] = latent;
                continue;
            }
            var scales = Parameters[slots.WeightScales];
            int fanIn = latent.Length / scales.Length;
            T level = T.CreateChecked(slots.WeightLevel);
            var w = weights[i] = new T[latent.Length];
            for (int j = 0; j < w.Length; j++) w[j] = Lsq.Quantize(latent[j], scales[j / fanIn], T.Zero, -level, level);
        }
        return new State(weights);
    }

    private static T[]?[] NewEffectiveGradient(State state) => state.Weights.Select(w => w is null ? null : new T[w.Length]).ToArray();

    /// <summary>The gradient of the multiplied weights taken back through the weight quantizer (STE, LSQ scale gradient) into the shard's gradient.</summary>
    private void FinishWeightGradients(T[]?[] effective, T[][] gradient)
    {
        for (int i = 0; i < Layers.Count; i++)
        {
            var slots = _slots[i];
            if (effective[i] is not { } dw) continue;
            if (FactorsOf(i) is { } factors)
            {
                FinishFactorGradients(factors, dw, gradient);
                continue;
            }
            if (slots.WeightScales < 0)
            {
                TensorPrimitives.Add<T>(gradient[slots.Weights], dw, gradient[slots.Weights]);
                continue;
            }
            var latent = Parameters[slots.Weights];
            var scales = Parameters[slots.WeightScales];
            int fanIn = latent.Length / scales.Length;
            T level = T.CreateChecked(slots.WeightLevel);
            var gw = gradient[slots.Weights];
            var gs = gradient[slots.WeightScales];
            for (int c = 0; c < scales.Length; c++)
            {
                T sum = T.Zero;
                for (int j = c * fanIn; j < (c + 1) * fanIn; j++)
                {
                    var (input, scale, _) = Lsq.Gradient(latent[j], scales[c], T.Zero, -level, level);
                    gw[j] += dw[j] * input;
                    sum += dw[j] * scale;
                }
                gs[c] += sum;
            }
        }
    }

    private Tape Forward(State state, IReadOnlyDictionary<string, T[]> inputs)
    {
        var tape = new Tape(Layers.Count);
        foreach (var (name, x) in inputs) Store(tape, name, x);
        for (int i = 0; i < Layers.Count; i++)
        {
            var layer = Layers[i];
            var x = tape.Values[layer.Inputs[0]];
            T[] y;
            switch (layer.Kind)
            {
                case LayerKinds.Conv or LayerKinds.FullyConnected when FactorsOf(i) is not null:
                    y = FactorizedForward(layer, FactorsOf(i)!, state.Weights[i]!, x, out var factorTape);
                    tape.Aux[i] = factorTape;
                    break;
                case LayerKinds.Conv:
                {
                    var columns = Columns(layer, x);
                    tape.Aux[i] = columns;
                    y = ConvForward(layer, state.Weights[i]!, Parameters[_slots[i].Bias], columns);
                    break;
                }
                case LayerKinds.FullyConnected: y = FullyConnectedForward(layer, state.Weights[i]!, Parameters[_slots[i].Bias], x); break;
                case LayerKinds.MaxPool or LayerKinds.AveragePool: (y, tape.Aux[i]) = PoolForward(layer, x); break;
                case LayerKinds.Add:
                    y = new T[x.Length];
                    if (layer.Subtract) TensorPrimitives.Subtract<T>(x, tape.Values[layer.Inputs[1]], y);
                    else TensorPrimitives.Add<T>(x, tape.Values[layer.Inputs[1]], y);
                    break;
                case LayerKinds.Reshape: y = x; break;
                case LayerKinds.Softmax:
                {
                    int n = Shape(layer.Output)[^1];
                    y = new T[x.Length];
                    for (int r = 0; r < x.Length; r += n) TensorPrimitives.SoftMax<T>(x.AsSpan(r, n), y.AsSpan(r, n));
                    break;
                }
                case LayerKinds.Sigmoid:
                    y = new T[x.Length];
                    TensorPrimitives.Sigmoid<T>(x, y);
                    break;
                case LayerKinds.Lookup:
                {
                    y = new T[x.Length];
                    var f = layer.Function!.Evaluate;
                    for (int j = 0; j < x.Length; j++) y[j] = T.CreateChecked(f(double.CreateChecked(x[j])));
                    break;
                }
                case LayerKinds.Affine:
                {
                    y = new T[x.Length];
                    int channels = layer.BroadcastChannels, inner = layer.BroadcastInner;
                    for (int j = 0; j < x.Length; j++)
                    {
                        int c = j / inner % channels;
                        y[j] = x[j] * T.CreateChecked(layer.AffineScale![c]) + T.CreateChecked(layer.AffineOffset![c]);
                    }
                    break;
                }
                case LayerKinds.Mul:
                {
                    var b = tape.Values[layer.Inputs[1]];
                    y = new T[x.Length];
                    for (int j = 0; j < x.Length; j++) y[j] = x[j] * b[j / layer.BroadcastInner];
                    break;
                }
                default: y = ConcatForward(layer, tape); break;
            }
            if (HasActivation(layer))
            {
                tape.PreActivation[i] = y;
                y = Activate(layer, y);
            }
            Store(tape, layer.Output, y);
        }
        return tape;
    }

    private void Store(Tape tape, string name, T[] x)
    {
        if (!_valueQuantizers.TryGetValue(name, out var q))
        {
            tape.Values[name] = x;
            return;
        }
        var grid = Parameters[q.Slot];
        var y = new T[x.Length];
        for (int j = 0; j < x.Length; j++) y[j] = Lsq.Quantize(x[j], grid[0], grid[1], q.N, q.P);
        tape.Raw[name] = x;
        tape.Values[name] = y;
    }

    /// <summary>
    /// One sample's backward pass. <paramref name="grads"/> holds the loss's gradients by value (the output's, and any
    /// intermediate value's a feature loss reads) and is consumed; each value's gradient is complete when its producer is reached.
    /// </summary>
    private void Backward(State state, Tape tape, Dictionary<string, T[]> grads, T[][] gradient, T[]?[] effective)
    {
        for (int i = Layers.Count - 1; i >= 0; i--)
        {
            var layer = Layers[i];
            if (!grads.Remove(layer.Output, out var dy)) continue;
            dy = UnQuantize(tape, layer.Output, dy, gradient);
            if (tape.PreActivation[i] is { } pre) dy = ActivationBackward(layer, pre, dy);
            var x = tape.Values[layer.Inputs[0]];
            switch (layer.Kind)
            {
                case LayerKinds.Conv or LayerKinds.FullyConnected when FactorsOf(i) is not null:
                    Accumulate(grads, layer.Inputs[0], FactorizedBackward(layer, FactorsOf(i)!, state.Weights[i]!, (FactorTape)tape.Aux[i]!, dy, effective[i]!, gradient));
                    break;
                case LayerKinds.Conv:
                    Accumulate(grads, layer.Inputs[0], ConvBackward(layer, state.Weights[i]!, (T[])tape.Aux[i]!, dy, effective[i]!, gradient[_slots[i].Bias]));
                    break;
                case LayerKinds.FullyConnected:
                    Accumulate(grads, layer.Inputs[0], FullyConnectedBackward(layer, state.Weights[i]!, x, dy, effective[i]!, gradient[_slots[i].Bias]));
                    break;
                case LayerKinds.MaxPool or LayerKinds.AveragePool:
                    Accumulate(grads, layer.Inputs[0], PoolBackward(layer, (int[]?)tape.Aux[i], dy, x.Length));
                    break;
                case LayerKinds.Add:
                {
                    Accumulate(grads, layer.Inputs[0], dy);
                    var db = new T[dy.Length];
                    if (layer.Subtract) TensorPrimitives.Negate<T>(dy, db);
                    else dy.AsSpan().CopyTo(db);
                    Accumulate(grads, layer.Inputs[1], db);
                    break;
                }
                case LayerKinds.Reshape: Accumulate(grads, layer.Inputs[0], dy); break;
                case LayerKinds.Softmax:
                {
                    var y = tape.Raw.TryGetValue(layer.Output, out var raw) ? raw : tape.Values[layer.Output];
                    int n = Shape(layer.Output)[^1];
                    var dx = new T[dy.Length];
                    for (int r = 0; r < dy.Length; r += n)
                    {
                        T dot = TensorPrimitives.Dot<T>(dy.AsSpan(r, n), y.AsSpan(r, n));
                        for (int j = r; j < r + n; j++) dx[j] = y[j] * (dy[j] - dot);
                    }
                    Accumulate(grads, layer.Inputs[0], dx);
                    break;
                }
                case LayerKinds.Sigmoid:
                {
                    var y = tape.Raw.TryGetValue(layer.Output, out var raw) ? raw : tape.Values[layer.Output];
                    var dx = new T[dy.Length];
                    for (int j = 0; j < dx.Length; j++) dx[j] = dy[j] * y[j] * (T.One - y[j]);
                    Accumulate(grads, layer.Inputs[0], dx);
                    break;
                }
                case LayerKinds.Lookup:
                {
                    var derivative = layer.Function!.Derivative!;
                    var dx = new T[dy.Length];
                    for (int j = 0; j < dx.Length; j++) dx[j] = dy[j] * T.CreateChecked(derivative(double.CreateChecked(x[j])));
                    Accumulate(grads, layer.Inputs[0], dx);
                    break;
                }
                case LayerKinds.Affine:
                {
                    var dx = new T[dy.Length];
                    int channels = layer.BroadcastChannels, inner = layer.BroadcastInner;
                    for (int j = 0; j < dx.Length; j++) dx[j] = dy[j] * T.CreateChecked(layer.AffineScale![j / inner % channels]);
                    Accumulate(grads, layer.Inputs[0], dx);
                    break;
                }
                case LayerKinds.Mul:
                {
                    var b = tape.Values[layer.Inputs[1]];
                    int inner = layer.BroadcastInner;
                    var dx = new T[dy.Length];
                    var db = new T[b.Length];
                    for (int j = 0; j < b.Length; j++)
                    {
                        var span = dy.AsSpan(j * inner, inner);
                        TensorPrimitives.Multiply<T>(span, b[j], dx.AsSpan(j * inner, inner));
                        db[j] = TensorPrimitives.Dot<T>(span, x.AsSpan(j * inner, inner));
                    }
                    Accumulate(grads, layer.Inputs[0], dx);
                    Accumulate(grads, layer.Inputs[1], db);
                    break;
                }
                default: ConcatBackward(layer, tape, dy, grads); break;
            }
        }
        foreach (var (name, dx) in grads) UnQuantize(tape, name, dx, gradient);
    }

    /// <summary>Takes a value's gradient back through its fake quantizer (if any), adding the grid's LSQ+ gradients.</summary>
    private T[] UnQuantize(Tape tape, string name, T[] dy, T[][] gradient)
    {
        if (!_valueQuantizers.TryGetValue(name, out var q)) return dy;
        var grid = Parameters[q.Slot];
        var dx = new T[dy.Length];
        var g = gradient[q.Slot];
        Lsq.Backward<T>(tape.Raw[name], dy, dx, grid[0], grid[1], q.N, q.P, ref g[0], ref g[1]);
        return dx;
    }

    private static void Accumulate(Dictionary<string, T[]> grads, string name, T[] dx)
    {
        if (grads.TryGetValue(name, out var existing)) TensorPrimitives.Add<T>(existing, dx, existing);
        else grads[name] = (T[])dx.Clone();
    }

    /// <summary>The kinds <see cref="LayerExecutor"/> applies the fused activation to, when they have one.</summary>
    private static bool HasActivation(FloatLayer layer) =>
        layer.Kind is not (LayerKinds.Reshape or LayerKinds.MaxPool or LayerKinds.Softmax or LayerKinds.Sigmoid)
        && (layer.LeakyAlpha is not null || !float.IsNegativeInfinity(layer.ClampMin) || !float.IsPositiveInfinity(layer.ClampMax) || layer.ChannelClampMax is not null);

    /// <summary>LeakyRelu's slope, then the clamp per output channel (as <see cref="LayerExecutor.ApplyActivation"/>).</summary>
    private T[] Activate(FloatLayer layer, T[] pre)
    {
        var (channels, inner) = LayerExecutor.ChannelLayout(Shape(layer.Output));
        var y = new T[pre.Length];
        T alpha = T.CreateChecked(layer.LeakyAlpha ?? 1f), lo = T.CreateChecked(layer.ClampMin);
        for (int j = 0; j < y.Length; j++)
        {
            T v = pre[j];
            if (layer.LeakyAlpha is not null && v < T.Zero) v *= alpha;
            T hi = T.CreateChecked(layer.ClampMaxOf(j / inner % channels));
            y[j] = v < lo ? lo : v > hi ? hi : v;
        }
        return y;
    }

    /// <summary>dz = dy · (slope where the clamp passes the value, 0 where it clips; a value exactly on a bound counts as clipped).</summary>
    private T[] ActivationBackward(FloatLayer layer, T[] pre, T[] dy)
    {
        var (channels, inner) = LayerExecutor.ChannelLayout(Shape(layer.Output));
        var dz = new T[pre.Length];
        T alpha = T.CreateChecked(layer.LeakyAlpha ?? 1f), lo = T.CreateChecked(layer.ClampMin);
        for (int j = 0; j < dz.Length; j++)
        {
            T v = pre[j], slope = T.One;
            if (layer.LeakyAlpha is not null && v < T.Zero)
            {
                v *= alpha;
                slope = alpha;
            }
            T hi = T.CreateChecked(layer.ClampMaxOf(j / inner % channels));
            dz[j] = v > lo && v < hi ? dy[j] * slope : T.Zero;
        }
        return dz;
    }

    /// <summary>im2col: the input as [C·KH·KW, OH·OW], rows (channel, ky, kx), zero padding (as <see cref="Im2Col.Columns"/>).</summary>
    private T[] Columns(FloatLayer layer, T[] x)
    {
        int[] inShape = Shape(layer.Inputs[0]), outShape = Shape(layer.Output);
        int c = inShape[1], h = inShape[2], w = inShape[3], oh = outShape[2], ow = outShape[3];
        int kh = layer.Kernel[0], kw = layer.Kernel[1], plane = oh * ow;
        var columns = new T[c * kh * kw * plane];
        for (int channel = 0; channel < c; channel++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                {
                    var row = columns.AsSpan(((channel * kh + ky) * kw + kx) * plane, plane);
                    var input = x.AsSpan(channel * h * w, h * w);
                    for (int oy = 0; oy < oh; oy++)
                    {
                        int iy = oy * layer.Strides[0] - layer.Pads[0] + ky * layer.Dilations[0];
                        if (iy < 0 || iy >= h) continue;
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int ix = ox * layer.Strides[1] - layer.Pads[1] + kx * layer.Dilations[1];
                            if (ix < 0 || ix >= w) continue;
                            row[oy * ow + ox] = input[iy * w + ix];
                        }
                    }
                }
        return columns;
    }

    /// <summary>col2im: the transpose of <see cref="Columns"/> (each column entry added back to the input element it was read from).</summary>
    private T[] ColumnsBackward(FloatLayer layer, T[] dColumns)
    {
        int[] inShape = Shape(layer.Inputs[0]), outShape = Shape(layer.Output);
        int c = inShape[1], h = inShape[2], w = inShape[3], oh = outShape[2], ow = outShape[3];
        int kh = layer.Kernel[0], kw = layer.Kernel[1], plane = oh * ow;
        var dx = new T[c * h * w];
        for (int channel = 0; channel < c; channel++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                {
                    var row = dColumns.AsSpan(((channel * kh + ky) * kw + kx) * plane, plane);
                    var input = dx.AsSpan(channel * h * w, h * w);
                    for (int oy = 0; oy < oh; oy++)
                    {
                        int iy = oy * layer.Strides[0] - layer.Pads[0] + ky * layer.Dilations[0];
                        if (iy < 0 || iy >= h) continue;
                        for (int ox = 0; ox < ow; ox++)
                        {
                            int ix = ox * layer.Strides[1] - layer.Pads[1] + kx * layer.Dilations[1];
                            if (ix < 0 || ix >= w) continue;
                            input[iy * w + ix] += row[oy * ow + ox];
                        }
                    }
                }
        return dx;
    }

    /// <summary>y[o, :] = b[o] + Σ_i W[o, i] · columns[g·K + i, :] for output channel o of group g.</summary>
    private T[] ConvForward(FloatLayer layer, T[] weights, T[] bias, T[] columns)
    {
        var outShape = Shape(layer.Output);
        int m = outShape[1], plane = outShape[2] * outShape[3], mg = m / layer.Group, k = weights.Length / m;
        var y = new T[m * plane];
        for (int o = 0; o < m; o++)
        {
            var row = y.AsSpan(o * plane, plane);
            row.Fill(bias[o]);
            int g = o / mg;
            for (int i = 0; i < k; i++)
                TensorPrimitives.MultiplyAdd<T>(columns.AsSpan((g * k + i) * plane, plane), weights[o * k + i], row, row);
        }
        return y;
    }

    /// <summary>dW[o, i] += ⟨dy[o, :], columns[g·K + i, :]⟩, db[o] += Σ dy[o, :], dcolumns[g·K + i, :] = Σ_o W[o, i] · dy[o, :], then col2im.</summary>
    private T[] ConvBackward(FloatLayer layer, T[] weights, T[] columns, T[] dy, T[] dWeights, T[] dBias)
    {
        var outShape = Shape(layer.Output);
        int m = outShape[1], plane = outShape[2] * outShape[3], mg = m / layer.Group, k = weights.Length / m;
        var dColumns = new T[columns.Length];
        for (int o = 0; o < m; o++)
        {
            var row = dy.AsSpan(o * plane, plane);
            dBias[o] += TensorPrimitives.Sum<T>(row);
            int g = o / mg;
            for (int i = 0; i < k; i++)
            {
                var column = columns.AsSpan((g * k + i) * plane, plane);
                dWeights[o * k + i] += TensorPrimitives.Dot<T>(row, column);
                var dColumn = dColumns.AsSpan((g * k + i) * plane, plane);
                TensorPrimitives.MultiplyAdd<T>(row, weights[o * k + i], dColumn, dColumn);
            }
        }
        return ColumnsBackward(layer, dColumns);
    }

    private static T[] FullyConnectedForward(FloatLayer layer, T[] weights, T[] bias, T[] x)
    {
        int m = layer.OutputChannels, k = weights.Length / m, rows = x.Length / k;
        var y = new T[rows * m];
        for (int r = 0; r < rows; r++)
        {
            var xr = x.AsSpan(r * k, k);
            for (int o = 0; o < m; o++) y[r * m + o] = TensorPrimitives.Dot<T>(weights.AsSpan(o * k, k), xr) + bias[o];
        }
        return y;
    }

    private static T[] FullyConnectedBackward(FloatLayer layer, T[] weights, T[] x, T[] dy, T[] dWeights, T[] dBias)
    {
        int m = layer.OutputChannels, k = weights.Length / m, rows = x.Length / k;
        var dx = new T[x.Length];
        for (int r = 0; r < rows; r++)
        {
            var xr = x.AsSpan(r * k, k);
            var dxr = dx.AsSpan(r * k, k);
            for (int o = 0; o < m; o++)
            {
                T d = dy[r * m + o];
                dBias[o] += d;
                var dw = dWeights.AsSpan(o * k, k);
                TensorPrimitives.MultiplyAdd<T>(xr, d, dw, dw);
                TensorPrimitives.MultiplyAdd<T>(weights.AsSpan(o * k, k), d, dxr, dxr);
            }
        }
        return dx;
    }

    /// <summary>Max pooling keeps the index of each window's first maximum; average pooling divides by the window's count (as <see cref="LayerExecutor"/>).</summary>
    private (T[] Y, int[]? ArgMax) PoolForward(FloatLayer layer, T[] x)
    {
        int[] inShape = Shape(layer.Inputs[0]), outShape = Shape(layer.Output);
        bool isMax = layer.Kind == LayerKinds.MaxPool;
        int nc = inShape[0] * inShape[1], h = inShape[2], w = inShape[3], oh = outShape[2], ow = outShape[3];
        var y = new T[nc * oh * ow];
        var argMax = isMax ? new int[y.Length] : null;
        for (int p = 0; p < nc; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    T best = T.NegativeInfinity, sum = T.Zero;
                    int count = 0, where = -1;
                    for (int ky = 0; ky < layer.Kernel[0]; ky++)
                        for (int kx = 0; kx < layer.Kernel[1]; kx++)
                        {
                            int iy = oy * layer.Strides[0] - layer.Pads[0] + ky * layer.Dilations[0];
                            int ix = ox * layer.Strides[1] - layer.Pads[1] + kx * layer.Dilations[1];
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            int at = (p * h + iy) * w + ix;
                            T v = x[at];
                            if (where < 0 || v > best)
                            {
                                best = v;
                                where = at;
                            }
                            sum += v;
                            count++;
                        }
                    int o = (p * oh + oy) * ow + ox;
                    int n = layer.CountIncludePad ? layer.Kernel[0] * layer.Kernel[1] : count;
                    if (isMax)
                    {
                        y[o] = best;
                        argMax![o] = where;
                    }
                    else y[o] = n == 0 ? T.Zero : sum / T.CreateChecked(n);
                }
        return (y, argMax);
    }

    private T[] PoolBackward(FloatLayer layer, int[]? argMax, T[] dy, int inputLength)
    {
        var dx = new T[inputLength];
        if (argMax is not null)
        {
            for (int o = 0; o < dy.Length; o++)
                if (argMax[o] >= 0) dx[argMax[o]] += dy[o];
            return dx;
        }
        int[] inShape = Shape(layer.Inputs[0]), outShape = Shape(layer.Output);
        int nc = inShape[0] * inShape[1], h = inShape[2], w = inShape[3], oh = outShape[2], ow = outShape[3];
        for (int p = 0; p < nc; p++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    int count = 0;
                    for (int pass = 0; pass < 2; pass++)
                    {
                        int n = layer.CountIncludePad ? layer.Kernel[0] * layer.Kernel[1] : count;
                        T share = pass == 0 || n == 0 ? T.Zero : dy[(p * oh + oy) * ow + ox] / T.CreateChecked(n);
                        for (int ky = 0; ky < layer.Kernel[0]; ky++)
                            for (int kx = 0; kx < layer.Kernel[1]; kx++)
                            {
                                int iy = oy * layer.Strides[0] - layer.Pads[0] + ky * layer.Dilations[0];
                                int ix = ox * layer.Strides[1] - layer.Pads[1] + kx * layer.Dilations[1];
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                if (pass == 0) count++;
                                else dx[(p * h + iy) * w + ix] += share;
                            }
                    }
                }
        return dx;
    }

    private (int Outer, int Stride) ConcatLayout(FloatLayer layer)
    {
        var outShape = Shape(layer.Output);
        int outer = 1;
        for (int d = 0; d < layer.Axis; d++) outer *= outShape[d];
        return (outer, ShapeMath.ElementCount(outShape) / outer);
    }

    private T[] ConcatForward(FloatLayer layer, Tape tape)
    {
        var (outer, stride) = ConcatLayout(layer);
        var y = new T[outer * stride];
        int offset = 0;
        foreach (var input in layer.Inputs)
        {
            var values = tape.Values[input];
            int chunk = values.Length / outer;
            for (int o = 0; o < outer; o++) values.AsSpan(o * chunk, chunk).CopyTo(y.AsSpan(o * stride + offset, chunk));
            offset += chunk;
        }
        return y;
    }

    private void ConcatBackward(FloatLayer layer, Tape tape, T[] dy, Dictionary<string, T[]> grads)
    {
        var (outer, stride) = ConcatLayout(layer);
        int offset = 0;
        foreach (var input in layer.Inputs)
        {
            int chunk = tape.Values[input].Length / outer;
            var dx = new T[outer * chunk];
            for (int o = 0; o < outer; o++) dy.AsSpan(o * stride + offset, chunk).CopyTo(dx.AsSpan(o * chunk, chunk));
            Accumulate(grads, input, dx);
            offset += chunk;
        }
    }
}
