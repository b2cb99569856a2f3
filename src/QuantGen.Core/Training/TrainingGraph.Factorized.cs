using System.Numerics.Tensors;
using QuantGen.Core.Artifact;
using QuantGen.Core.Quantization;
using QuantGen.Core.Quantization.Factorization;

namespace QuantGen.Core.Training;

/// <summary>
/// Factorized layers (W ≈ A·B, docs/artifact.md "Factorized layers") in the training graph, trained as their factors:
/// stage 1 t = B̂·x (B [r, K], a Conv's B read on im2col columns), the intermediate fake-quantized on its symmetric
/// int16 grid (ẑ = s_z·⌊clamp(t/s_z, ±32767)⌉, one learnable LSQ scale s_z per layer), stage 2 y = Â·ẑ + b, then the
/// fused activation and the output grid as for any layer. Only the stored entries of A and B are parameters (their
/// latent values, per-row LSQ scales on the factors' b-bit grids, STE); the sparsity pattern stays as fitted.
/// </summary>
internal sealed partial class TrainingGraph<T>
{
    /// <summary>A factorized layer's parameter slots and fixed structure.</summary>
    internal sealed class FactorSlots(FactorizedWeights factors)
    {
        public FactorizedWeights Factors { get; } = factors;

        /// <summary>Latent values of B's stored entries [r·nzB] and of A's [M·nzA]; the bias [M].</summary>
        public int B { get; init; }

        public int A { get; init; }

        public int Bias { get; init; }

        /// <summary>Per-row scales of B [r] and A [M], and the intermediate's grid [s_z] (−1 until <see cref="QuantizeFactors"/>).</summary>
        public int BScales { get; set; } = -1;

        public int AScales { get; set; } = -1;

        public int ZGrid { get; set; } = -1;

        public int Rank => Factors.B.Rows;

        public int M => Factors.A.Rows;

        public int K => Factors.B.Cols;

        /// <summary>B̂ and Â laid end to end in the state's weights (and the effective gradient) of the layer: B first.</summary>
        public int ALength => Factors.A.Levels.Length;

        public int BLength => Factors.B.Levels.Length;
    }

    private FactorSlots?[]? _factors;

    /// <summary>The factor slots of a factorized layer trained as its factors (null for any other layer).</summary>
    public FactorSlots? FactorSlotsOf(FloatLayer layer)
    {
        int i = Array.IndexOf((FloatLayer[])Layers, layer);
        return i < 0 || _factors is null ? null : _factors[i];
    }

    private FactorSlots? FactorsOf(int layer) => _factors?[layer];

    /// <summary>Adds a factorized layer's parameters: the fitted factors' stored entries (dequantized) and its bias.</summary>
    private void AddFactors(int i, FloatLayer layer)
    {
        _factors ??= new FactorSlots?[Layers.Count];
        var f = layer.Factorization!;
        _factors[i] = new FactorSlots(f)
        {
            B = Add($"{layer.Name}.b", Dequantized(f.B)),
            A = Add($"{layer.Name}.a", Dequantized(f.A)),
            Bias = Add($"{layer.Name}.bias", Convert(layer.Bias!)),
        };
    }

    private static T[] Dequantized(SparseQuantizedFactor factor)
    {
        var values = new T[factor.Levels.Length];
        for (int j = 0; j < values.Length; j++) values[j] = T.CreateChecked(factor.Levels[j] * factor.Scales[j / factor.NonZerosPerRow]);
        return values;
    }

    /// <summary>
    /// Fake-quantizes a factorized layer: A and B on their b-bit grids with learnable per-row scales (starting at the
    /// fitted ones), and the intermediate on the int16 grid of scale <paramref name="intermediateScale"/> (none when null).
    /// </summary>
    public void QuantizeFactors(FloatLayer layer, float? intermediateScale)
    {
        var slots = FactorSlotsOf(layer) ?? throw new ArgumentException($"{layer.Name} is not trained as factors.", nameof(layer));
        slots.BScales = Add($"{layer.Name}.bScales", Convert(slots.Factors.B.Scales));
        slots.AScales = Add($"{layer.Name}.aScales", Convert(slots.Factors.A.Scales));
        if (intermediateScale is { } s) slots.ZGrid = Add($"{layer.Name}.zGrid", [T.CreateChecked(s)]);
    }

    /// <summary>
    /// The factors as trained: each stored entry's grid index ⌊clamp(latent/scale, ±level)⌉ (half to even, as the
    /// forward), the learned row scales, and the intermediate's range s_z·32767. Needs <see cref="QuantizeFactors"/>.
    /// </summary>
    public FactorizedWeights TrainedFactors(FloatLayer layer)
    {
        var slots = FactorSlotsOf(layer)!;
        var f = slots.Factors;
        var b = Trained(f.B, Parameters[slots.B], Parameters[slots.BScales]);
        var a = Trained(f.A, Parameters[slots.A], Parameters[slots.AScales]);
        return f with
        {
            A = a,
            B = b,
            IntermediateMax = slots.ZGrid < 0 ? f.IntermediateMax : double.CreateChecked(Parameters[slots.ZGrid][0]) * ArtifactBuilder.IntermediateLevel,
        };
    }

    private static SparseQuantizedFactor Trained(SparseQuantizedFactor factor, T[] latent, T[] scales)
    {
        int level = WeightQuantizer.MaxLevel(factor.Bits), nz = factor.NonZerosPerRow;
        var levels = new int[latent.Length];
        var rowScales = new float[scales.Length];
        for (int r = 0; r < scales.Length; r++) rowScales[r] = float.CreateChecked(scales[r]);
        for (int j = 0; j < levels.Length; j++)
            levels[j] = int.CreateChecked(T.Round(T.Clamp(latent[j] / scales[j / nz], T.CreateChecked(-level), T.CreateChecked(level))));
        return SparseQuantizedFactor.FromParts(factor.Rows, factor.Cols, nz, factor.Bits, levels, (int[])factor.Columns.Clone(), rowScales);
    }

    /// <summary>B̂ then Â (fake-quantized when the layer has factor scales), end to end.</summary>
    private T[] PrepareFactors(FactorSlots slots)
    {
        var w = new T[slots.BLength + slots.ALength];
        QuantizeRows(Parameters[slots.B], slots.BScales < 0 ? null : Parameters[slots.BScales], slots.Factors.B, w.AsSpan(0, slots.BLength));
        QuantizeRows(Parameters[slots.A], slots.AScales < 0 ? null : Parameters[slots.AScales], slots.Factors.A, w.AsSpan(slots.BLength));
        return w;
    }

    private static void QuantizeRows(T[] latent, T[]? scales, SparseQuantizedFactor factor, Span<T> w)
    {
        if (scales is null)
        {
            latent.AsSpan().CopyTo(w);
            return;
        }
        T level = T.CreateChecked(WeightQuantizer.MaxLevel(factor.Bits));
        for (int j = 0; j < w.Length; j++) w[j] = Lsq.Quantize(latent[j], scales[j / factor.NonZerosPerRow], T.Zero, -level, level);
    }

    /// <summary>The gradient of B̂ and Â taken back through their row quantizers (STE, LSQ scale gradient).</summary>
    private void FinishFactorGradients(FactorSlots slots, T[] dw, T[][] gradient)
    {
        RowGradients(slots.Factors.B, slots.B, slots.BScales, dw.AsSpan(0, slots.BLength), gradient);
        RowGradients(slots.Factors.A, slots.A, slots.AScales, dw.AsSpan(slots.BLength), gradient);
    }

    private void RowGradients(SparseQuantizedFactor factor, int latentSlot, int scaleSlot, ReadOnlySpan<T> dw, T[][] gradient)
    {
        var gw = gradient[latentSlot];
        if (scaleSlot < 0)
        {
            for (int j = 0; j < dw.Length; j++) gw[j] += dw[j];
            return;
        }
        var latent = Parameters[latentSlot];
        var scales = Parameters[scaleSlot];
        var gs = gradient[scaleSlot];
        int nz = factor.NonZerosPerRow;
        T level = T.CreateChecked(WeightQuantizer.MaxLevel(factor.Bits));
        for (int r = 0; r < scales.Length; r++)
        {
            T sum = T.Zero;
            for (int j = r * nz; j < (r + 1) * nz; j++)
            {
                var (input, scale, _) = Lsq.Gradient(latent[j], scales[r], T.Zero, -level, level);
                gw[j] += dw[j] * input;
                sum += dw[j] * scale;
            }
            gs[r] += sum;
        }
    }

    /// <summary>One sample's stage inputs and intermediates, kept for the backward pass.</summary>
    private sealed record FactorTape(T[] X, T[] Raw, T[] Z);

    /// <summary>
    /// The layer's input as X [K, P]: a Conv's im2col columns (P = output positions), a FullyConnected's rows transposed
    /// (P = rows). Returns the output [M, P] as the layer lays it out (NCHW, or [rows, M]).
    /// </summary>
    private T[] FactorizedForward(FloatLayer layer, FactorSlots slots, T[] weights, T[] x, out FactorTape tape)
    {
        int k = slots.K, r = slots.Rank, m = slots.M;
        bool conv = layer.Kind == LayerKinds.Conv;
        var columns = conv ? Columns(layer, x) : Transpose(x, x.Length / k, k);
        int p = columns.Length / k;
        var (b, a) = (slots.Factors.B, slots.Factors.A);
        var t = new T[r * p];
        for (int c = 0; c < r; c++)
        {
            var row = t.AsSpan(c * p, p);
            for (int s = c * b.NonZerosPerRow; s < (c + 1) * b.NonZerosPerRow; s++)
                TensorPrimitives.MultiplyAdd<T>(columns.AsSpan(b.Columns[s] * p, p), weights[s], row, row);
        }
        var z = t;
        if (slots.ZGrid >= 0)
        {
            T sz = Parameters[slots.ZGrid][0], level = T.CreateChecked(ArtifactBuilder.IntermediateLevel);
            z = new T[t.Length];
            for (int j = 0; j < z.Length; j++) z[j] = Lsq.Quantize(t[j], sz, T.Zero, -level, level);
        }
        var bias = Parameters[slots.Bias];
        var y = new T[m * p];
        int offset = slots.BLength;
        for (int o = 0; o < m; o++)
        {
            var row = y.AsSpan(o * p, p);
            row.Fill(bias[o]);
            for (int s = o * a.NonZerosPerRow; s < (o + 1) * a.NonZerosPerRow; s++)
                TensorPrimitives.MultiplyAdd<T>(z.AsSpan(a.Columns[s] * p, p), weights[offset + s], row, row);
        }
        tape = new FactorTape(columns, t, z);
        return conv ? y : Transpose(y, m, p);
    }

    /// <summary>The backward of <see cref="FactorizedForward"/>: bias, Â, the intermediate's grid, B̂ gradients; returns dx.</summary>
    private T[] FactorizedBackward(FloatLayer layer, FactorSlots slots, T[] weights, FactorTape tape, T[] dOutput, T[] dWeights, T[][] gradient)
    {
        int k = slots.K, r = slots.Rank, m = slots.M;
        bool conv = layer.Kind == LayerKinds.Conv;
        int p = tape.X.Length / k;
        var dy = conv ? dOutput : Transpose(dOutput, p, m);
        var (b, a) = (slots.Factors.B, slots.Factors.A);
        var dBias = gradient[slots.Bias];
        var dz = new T[r * p];
        int offset = slots.BLength;
        for (int o = 0; o < m; o++)
        {
            var row = dy.AsSpan(o * p, p);
            dBias[o] += TensorPrimitives.Sum<T>(row);
            for (int s = o * a.NonZerosPerRow; s < (o + 1) * a.NonZerosPerRow; s++)
            {
                int c = a.Columns[s];
                dWeights[offset + s] += TensorPrimitives.Dot<T>(row, tape.Z.AsSpan(c * p, p));
                var dzRow = dz.AsSpan(c * p, p);
                TensorPrimitives.MultiplyAdd<T>(row, weights[offset + s], dzRow, dzRow);
            }
        }
        var dt = dz;
        if (slots.ZGrid >= 0)
        {
            T level = T.CreateChecked(ArtifactBuilder.IntermediateLevel), dOffset = T.Zero;
            dt = new T[dz.Length];
            Lsq.Backward<T>(tape.Raw, dz, dt, Parameters[slots.ZGrid][0], T.Zero, -level, level, ref gradient[slots.ZGrid][0], ref dOffset);
        }
        var dColumns = new T[tape.X.Length];
        for (int c = 0; c < r; c++)
        {
            var row = dt.AsSpan(c * p, p);
            for (int s = c * b.NonZerosPerRow; s < (c + 1) * b.NonZerosPerRow; s++)
            {
                int j = b.Columns[s];
                dWeights[s] += TensorPrimitives.Dot<T>(row, tape.X.AsSpan(j * p, p));
                var dColumn = dColumns.AsSpan(j * p, p);
                TensorPrimitives.MultiplyAdd<T>(row, weights[s], dColumn, dColumn);
            }
        }
        return conv ? ColumnsBackward(layer, dColumns) : Transpose(dColumns, k, p);
    }

    /// <summary>[rows, cols] → [cols, rows].</summary>
    private static T[] Transpose(T[] x, int rows, int cols)
    {
        var y = new T[x.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) y[j * rows + i] = x[i * cols + j];
        return y;
    }
}
