using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace QuantGen.Core.Quantization;

/// <summary>
/// AdaRound (Nagel et al. 2020, arXiv 2004.10568): learns, per weight, whether to round down or up so that the
/// layer's output on calibration rows stays close to the float layer's. Soft weights
/// W̃ = s·clamp(floor(W/s) + h(V), −L, L) with the rectified sigmoid h(V) = clip(σ(V)(ζ − γ) + γ, 0, 1); Adam on V
/// against reconstruction error plus a regulariser that drives h to 0 or 1; finally h ≥ ½ rounds up.
/// </summary>
/// <remarks>
/// Loss, normalisation, schedules and the speed measurements are in docs/adaround.md. Deterministic: the rows come
/// from a seeded <see cref="Random"/>, and every float is computed by exactly one work item whose arithmetic does
/// not depend on how the items are spread over threads (no cross-thread reductions).
/// </remarks>
internal static class AdaRound
{
    internal const float Zeta = 1.1f;
    internal const float Gamma = -0.1f;

    public static AdaRoundResult Optimize(AdaRoundProblem problem, AdaRoundSettings settings)
    {
        var clock = Stopwatch.StartNew();
        int rows = problem.Validate();
        settings.Validate();
        var (quantized, nearest, learned, steps) =
            Vector512.IsHardwareAccelerated ? new Optimizer<Vector512<float>, Simd512>(problem, settings, rows).Run()
            : Vector256.IsHardwareAccelerated ? new Optimizer<Vector256<float>, Simd256>(problem, settings, rows).Run()
            : new Optimizer<Vector128<float>, Simd128>(problem, settings, rows).Run();
        var reference = WeightQuantizer.RoundToNearest(problem.Weights, problem.Scales, problem.Bits);
        int flipped = 0;
        for (int i = 0; i < quantized.Length; i++)
            if (quantized[i] != reference[i]) flipped++;
        return new AdaRoundResult(quantized, nearest, learned, flipped, clock.Elapsed) { StepsElapsed = steps };
    }

    /// <summary>
    /// The optimiser for one vector width. Per-weight arrays are [M, Kp], rows padded to whole vectors. A batch is
    /// stored transposed, per group [K, columns] with a leading dimension of columns + one vector (a power-of-two
    /// stride would map every row to the same cache set), columns padded with zeros to whole tiles, so the forward
    /// product Z[o, b] = Σk W̃[o, k]·X[k, b] runs along the batch in vectors. The backward product
    /// G[o, k] = Σb dZ[o, b]·X[k, b] runs along k on a row-major copy of the batch where groups have four rows or
    /// more, and as dot products along the batch otherwise (depthwise).
    /// </summary>
    private sealed class Optimizer<TV, TS> where TV : struct where TS : struct, ISimd<TV>
    {
        private const int RowTile = 4;
        private const int KBlock = 128;
        private const int GatherBlock = 16;
        private const int MinItems = 8;

        /// <summary>Multiply-adds per pass below which a pass runs on the calling thread (dispatch costs more).</summary>
        private const long ParallelWork = 1 << 20;

        /// <summary>Rows are drawn in runs of this many consecutive rows (see <see cref="Train"/>).</summary>
        private const int RunLength = 16;

        private readonly AdaRoundProblem _problem;
        private readonly AdaRoundSettings _settings;
        private readonly ParallelOptions _parallel;
        private readonly int _m, _k, _kp, _groups, _perGroup, _rows, _level, _width;
        private readonly int _batch, _columns, _evalColumns, _rowLd, _ldr;
        private readonly bool _rowLayout;
        private readonly float[] _scale, _bias, _clampMin, _clampMax, _coefficient;
        private readonly float _alpha;
        private readonly bool _leaky;

        // Row tiles (RowTile rows, or one row, of one group); group g owns tiles [_groupTiles[g], _groupTiles[g + 1]).
        private readonly int[] _tileRow, _tileRows, _groupTiles;

        // Work items: a range of one group's tiles, [first, end). A step runs forward, backward and update of an item
        // in one go, so a step has one barrier (two when it draws rows).
        private readonly (int Group, int FirstTile, int EndTile)[] _items;

        // Per weight, [M, Kp]: floor(W/s), V, Adam's moments, h(V), W̃, dL/dW̃.
        private readonly float[] _floor, _v, _mean, _variance, _h, _soft, _grad;

        // Batch buffers: inputs per group [K, ld] and (row layout) [columns, ldr], targets [M, ld], z or dL/dz [M, ld].
        private readonly float[] _x, _xr, _t, _dz;

        // f(W x + b) of the float model for every row, [M, rowLd], and the mean square of W x + b per channel.
        private readonly float[] _target;

        // Quantized inputs and targets in run-major blocks (only when the steps sample rows), see Transpose.
        private float[] _quant = [];
        private readonly double[] _outputSquare;

        // This step's regulariser weight and exponent, Adam's step size and second-moment bias correction.
        private float _lambda, _beta, _step, _correction2;

        public Optimizer(AdaRoundProblem problem, AdaRoundSettings settings, int rows)
        {
            _problem = problem;
            _settings = settings;
            _parallel = new ParallelOptions { MaxDegreeOfParallelism = settings.MaxDegreeOfParallelism };
            _m = problem.OutputChannels;
            _k = problem.FanIn;
            _width = TS.Count;
            _kp = RoundUp(_k, _width);
            _groups = problem.Groups;
            _perGroup = _m / _groups;
            _rows = rows;
            _level = WeightQuantizer.MaxLevel(problem.Bits);
            _batch = RoundUp(settings.BatchRows, RunLength);
            if (_batch > rows - rows % RunLength) _batch = rows;
            _rowLd = RoundUp(rows, RunLength) + RunLength;
            _columns = RoundUp(_batch, 4 * _width);
            _evalColumns = RoundUp(Math.Min(rows, 1024), 4 * _width);
            _scale = problem.Scales;
            _bias = problem.Bias;
            _clampMin = problem.ClampMin;
            _clampMax = problem.ClampMax;
            _leaky = problem.LeakyAlpha.HasValue;
            _alpha = problem.LeakyAlpha ?? 1;

            var tileRow = new List<int>();
            var tileRows = new List<int>();
            _groupTiles = new int[_groups + 1];
            for (int g = 0; g < _groups; g++)
            {
                _groupTiles[g] = tileRow.Count;
                int o = g * _perGroup, end = o + _perGroup;
                for (; o + RowTile <= end; o += RowTile) { tileRow.Add(o); tileRows.Add(RowTile); }
                for (; o < end; o++) { tileRow.Add(o); tileRows.Add(1); }
            }
            _groupTiles[_groups] = tileRow.Count;
            (_tileRow, _tileRows) = (tileRow.ToArray(), tileRows.ToArray());
            _items = Items();

            int size = _m * _kp, ld = Ld(Math.Max(_columns, _evalColumns));
            (_floor, _v, _mean, _variance, _h, _soft, _grad) =
                (new float[size], new float[size], new float[size], new float[size], new float[size], new float[size], new float[size]);
            _x = new float[_groups * _k * ld];
            _rowLayout = _perGroup >= RowTile;
            _ldr = _kp + _width;
            _xr = _rowLayout ? new float[_groups * _columns * _ldr] : [];
            _t = new float[_m * ld];
            _dz = new float[_m * ld];
            _target = new float[_m * _rowLd];
            _outputSquare = new double[_m];
            _coefficient = new float[_m];
        }

        public (int[] Quantized, double Nearest, double Learned, TimeSpan Steps) Run()
        {
            ForEachChunk(_problem.FloatInputs, Padded(_problem.Weights), StoreTargets);
            Initialise();
            var nearest = WeightQuantizer.RoundToNearest(_problem.Weights, _scale, _problem.Bits);
            var nearestErrors = Errors(Padded(Dequantize(nearest)));
            long start = Stopwatch.GetTimestamp();
            Train();
            var steps = Stopwatch.GetElapsedTime(start);

            var learned = new int[_m * _k];
            for (int o = 0; o < _m; o++)
                for (int i = 0; i < _k; i++)
                {
                    int j = o * _kp + i;
                    learned[o * _k + i] = Math.Clamp((int)_floor[j] + (_h[j] >= 0.5f ? 1 : 0), -_level, _level);
                }
            var learnedErrors = Errors(Padded(Dequantize(learned)));

            // Channels do not interact (row o of W̃ only reaches output o): keep round-to-nearest for a channel where
            // the learned rounding does worse on all the rows (it can: the steps saw samples, and h is thresholded).
            double nearestSum = 0, learnedSum = 0;
            for (int o = 0; o < _m; o++)
            {
                nearestSum += nearestErrors[o];
                if (learnedErrors[o] > nearestErrors[o])
                {
                    Array.Copy(nearest, o * _k, learned, o * _k, _k);
                    learnedSum += nearestErrors[o];
                }
                else
                {
                    learnedSum += learnedErrors[o];
                }
            }
            double count = (double)_rows * _m;
            return (learned, nearestSum / count, learnedSum / count, steps);
        }

        private int Ld(int columns) => columns + _width;

        private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

        /// <summary>
        /// Splits each group's tiles into ranges so there are at least <see cref="MinItems"/> items where the shape
        /// allows (the split depends on the shape only, and no result depends on it).
        /// </summary>
        private (int, int, int)[] Items()
        {
            int tilesPerGroup = _tileRow.Length / _groups;
            int splits = Math.Clamp((MinItems + _groups - 1) / _groups, 1, tilesPerGroup);
            var items = new List<(int, int, int)>();
            for (int g = 0; g < _groups; g++)
                for (int s = 0; s < splits; s++)
                    items.Add((g, _groupTiles[g] + s * tilesPerGroup / splits, _groupTiles[g] + (s + 1) * tilesPerGroup / splits));
            return items.ToArray();
        }

        private float[] Padded(float[] matrix)
        {
            var padded = new float[_m * _kp];
            for (int o = 0; o < _m; o++)
                Array.Copy(matrix, o * _k, padded, o * _kp, _k);
            return padded;
        }

        private float[] Dequantize(int[] indices)
        {
            var real = new float[indices.Length];
            for (int i = 0; i < indices.Length; i++)
                real[i] = indices[i] * _scale[i / _k];
            return real;
        }

        /// <summary>
        /// V such that h(V) is the fractional part of W/s (the soft weights start at W, clamped), and the
        /// reconstruction coefficients: 2/(B·M) from the mean over rows and channels, divided by the channel's mean
        /// square of W x + b (docs/adaround.md explains the normalisation).
        /// </summary>
        private void Initialise()
        {
            for (int o = 0; o < _m; o++)
                for (int i = 0; i < _k; i++)
                {
                    int j = o * _kp + i;
                    float ratio = _problem.Weights[o * _k + i] / _scale[o];
                    float floor = MathF.Floor(ratio);
                    double sigma = ((double)(ratio - floor) - Gamma) / (Zeta - Gamma);
                    _floor[j] = floor;
                    _v[j] = (float)Math.Log(sigma / (1 - sigma));
                    Soften(o, j);
                }

            double typical = _outputSquare.Average();
            for (int o = 0; o < _m; o++)
            {
                double unit = Math.Max(_outputSquare[o], 1e-6 * typical);
                if (!(unit > 0)) unit = 1;
                _coefficient[o] = (float)(2.0 / ((double)_batch * _m * unit));
            }
        }

        /// <summary>Scalar h(V) and W̃ of one weight (the vectorised <see cref="Update"/> does the same).</summary>
        private void Soften(int o, int j)
        {
            float sigma = 1 / (1 + MathF.Exp(-_v[j]));
            float raw = sigma * (Zeta - Gamma) + Gamma;
            _h[j] = Math.Clamp(raw, 0, 1);
            _soft[j] = _scale[o] * Math.Clamp(_floor[j] + _h[j], -_level, _level);
        }

        /// <summary>
        /// The Adam steps. A step's rows are runs of <see cref="RunLength"/> consecutive rows, drawn uniformly without
        /// replacement with the seeded generator: a run is then a few vector copies from the transposed inputs. For
        /// conv layers consecutive im2col rows are neighbouring positions of one image (the paper's batches are whole
        /// images); the last R mod 16 rows are never drawn but count in the errors.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Train()
        {
            var random = new Random(_settings.Seed);
            bool sample = _batch < _rows;
            int ld = Ld(_columns), runs = _rows / RunLength, draws = _batch / RunLength;
            Array.Clear(_x);
            Array.Clear(_t);
            if (sample)
            {
                Transpose();
            }
            else
            {
                Gather(_problem.QuantInputs, Enumerable.Range(0, _rows).ToArray(), _batch, _columns, withTargets: true);
                if (_rowLayout) CopyRows(0, 0, _rows);
            }
            var runOrder = Enumerable.Range(0, runs).ToArray();
            var drawn = new int[draws];

            int iterations = _settings.Iterations;
            double warmEnd = _settings.WarmUp * iterations;
            for (int t = 0; t < iterations; t++)
            {
                if (t < warmEnd)
                {
                    _lambda = 0;
                    _beta = _settings.BetaStart;
                }
                else
                {
                    // Cosine annealing from BetaStart to BetaEnd over the iterations after the warm-up (AIMET's).
                    double progress = (t - warmEnd) / (iterations - warmEnd);
                    _beta = (float)(_settings.BetaEnd + 0.5 * (_settings.BetaStart - _settings.BetaEnd) * (1 + Math.Cos(progress * Math.PI)));
                    _lambda = _settings.Lambda;
                }
                // PyTorch's Adam (β1 0.9, β2 0.999, ε 1e-8): V −= lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + ε).
                _step = (float)(_settings.LearningRate / (1 - Math.Pow(0.9, t + 1)));
                _correction2 = (float)(1 / Math.Sqrt(1 - Math.Pow(0.999, t + 1)));

                if (sample)
                {
                    for (int i = 0; i < draws; i++)
                    {
                        int j = random.Next(i, runs);
                        (runOrder[i], runOrder[j]) = (runOrder[j], runOrder[i]);
                    }
                    Array.Copy(runOrder, drawn, draws);
                    Array.Sort(drawn);
                    GatherRuns(drawn, ld);
                }
                Step(_columns);
            }
        }

        // ---- Batches and whole-data passes ----

        /// <summary>
        /// Copies the quantized inputs and the targets, once, into run-major blocks [run][group][K][16] and
        /// [run][M][16]: a drawn run is then one contiguous block for all groups (a depthwise layer's many input
        /// arrays would otherwise cost a cache and TLB miss per group, row and step).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Transpose()
        {
            int runs = _rows / RunLength, block = (_groups * _k + _m) * RunLength;
            _quant = new float[runs * block];
            For(runs, true, run =>
            {
                var destination = _quant.AsSpan(run * block, block);
                for (int g = 0; g < _groups; g++)
                {
                    var source = _problem.QuantInputs[g];
                    for (int j = 0; j < RunLength; j++)
                    {
                        int r = run * RunLength + j;
                        for (int i = 0; i < _k; i++) destination[(g * _k + i) * RunLength + j] = source[r * _k + i];
                    }
                }
                for (int o = 0; o < _m; o++)
                    _target.AsSpan(o * _rowLd + run * RunLength, RunLength).CopyTo(destination.Slice((_groups * _k + o) * RunLength));
            });
        }

        /// <summary>Copies the drawn runs of inputs and targets into the batch (one vector copy per run, row and group).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void GatherRuns(int[] drawn, int ld)
        {
            int draws = drawn.Length, pieces = Math.Min(draws, MinItems), perPiece = (draws + pieces - 1) / pieces;
            int rowsPerRun = _groups * _k, block = (rowsPerRun + _m) * RunLength;
            For(pieces, (long)_batch * (rowsPerRun + _m) >= 1 << 18, piece =>
            {
                for (int d = piece * perPiece; d < Math.Min(draws, (piece + 1) * perPiece); d++)
                {
                    ref float source = ref _quant[drawn[d] * block];
                    ref float x = ref _x[d * RunLength];
                    for (int g = 0; g < _groups; g++)
                        for (int i = 0; i < _k; i++)
                            CopyRun(ref Unsafe.Add(ref source, (g * _k + i) * RunLength), ref Unsafe.Add(ref x, (g * _k + i) * ld));
                    ref float targets = ref Unsafe.Add(ref source, rowsPerRun * RunLength);
                    ref float t = ref _t[d * RunLength];
                    for (int o = 0; o < _m; o++)
                        CopyRun(ref Unsafe.Add(ref targets, o * RunLength), ref Unsafe.Add(ref t, o * ld));
                    if (_rowLayout) CopyRows(drawn[d] * RunLength, d * RunLength, RunLength);
                }
            });
        }

        /// <summary>Copies input rows [first, first + count) of every group into the row-major batch from row b on.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void CopyRows(int first, int b, int count)
        {
            for (int g = 0; g < _groups; g++)
            {
                var source = _problem.QuantInputs[g].AsSpan(first * _k, count * _k);
                var destination = _xr.AsSpan((g * _columns + b) * _ldr);
                for (int r = 0; r < count; r++)
                    source.Slice(r * _k, _k).CopyTo(destination.Slice(r * _ldr));
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void CopyRun(ref float source, ref float destination)
        {
            for (nuint i = 0; i < RunLength; i += (nuint)TS.Count)
                TS.Store(TS.Load(ref source, i), ref destination, i);
        }

        /// <summary>
        /// Copies rows[0..count) of each group's inputs into the transposed batch, zeros after count; with targets,
        /// also the float model's outputs for those rows.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Gather(float[][] inputs, int[] rows, int count, int columns, bool withTargets)
        {
            int ld = Ld(columns), blocks = columns / GatherBlock;
            int pieces = Math.Min(blocks, (MinItems + _groups - 1) / _groups), perPiece = (blocks + pieces - 1) / pieces;
            bool parallel = (long)columns * _groups * _k >= 1 << 18;
            For(_groups * pieces, parallel, item =>
            {
                int g = item / pieces, piece = item % pieces;
                var source = inputs[g];
                ref float x = ref _x[g * _k * ld];
                for (int block = piece * perPiece; block < Math.Min(blocks, (piece + 1) * perPiece); block++)
                    for (int b = block * GatherBlock; b < (block + 1) * GatherBlock; b++)
                    {
                        if (b < count)
                        {
                            ref float row = ref source[rows[b] * _k];
                            for (int i = 0; i < _k; i++) Unsafe.Add(ref x, i * ld + b) = Unsafe.Add(ref row, i);
                        }
                        else
                        {
                            for (int i = 0; i < _k; i++) Unsafe.Add(ref x, i * ld + b) = 0;
                        }
                    }
            });
            if (!withTargets) return;
            For(blocks, parallel, block =>
            {
                for (int b = block * GatherBlock; b < (block + 1) * GatherBlock; b++)
                    for (int o = 0; o < _m; o++) _t[o * ld + b] = b < count ? _target[o * _rowLd + rows[b]] : 0;
            });
        }

        /// <summary>Runs all rows of the inputs through <paramref name="weights"/>, chunk by chunk; z lands in _dz.</summary>
        private void ForEachChunk(float[][] inputs, float[] weights, Action<int, int> consume)
        {
            var rows = new int[_evalColumns];
            for (int r0 = 0; r0 < _rows; r0 += _evalColumns)
            {
                int count = Math.Min(_evalColumns, _rows - r0);
                for (int b = 0; b < count; b++) rows[b] = r0 + b;
                Gather(inputs, rows, count, _evalColumns, withTargets: false);
                Forward(weights, _evalColumns, train: false);
                consume(r0, count);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void StoreTargets(int r0, int count)
        {
            int ld = Ld(_evalColumns);
            For(_m, (long)_m * count >= 1 << 14, o =>
            {
                double square = 0;
                for (int b = 0; b < count; b++)
                {
                    float z = _dz[o * ld + b];
                    square += (double)z * z;
                    _target[o * _rowLd + r0 + b] = Activate(o, z);
                }
                _outputSquare[o] += square / _rows;
            });
        }

        /// <summary>Per channel, Σ over all rows of (f(W̃x̃ + b) − f(Wx + b))².</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private double[] Errors(float[] weights)
        {
            var sums = new double[_m];
            int ld = Ld(_evalColumns);
            ForEachChunk(_problem.QuantInputs, weights, (r0, count) =>
                For(_m, (long)_m * count >= 1 << 14, o =>
                {
                    double sum = 0;
                    for (int b = 0; b < count; b++)
                    {
                        double e = Activate(o, _dz[o * ld + b]) - _target[o * _rowLd + r0 + b];
                        sum += e * e;
                    }
                    sums[o] += sum;
                }));
            return sums;
        }

        /// <summary>f(z) for pre-activation z (bias included): LeakyReLU if any, then the channel's clamp.</summary>
        private float Activate(int o, float z)
        {
            if (_leaky && z < 0) z *= _alpha;
            return Math.Clamp(z, _clampMin[o], _clampMax[o]);
        }

        // ---- Steps: forward Z = W̃ X + b, then (training) dL/dz into _dz, otherwise z; backward; update ----

        /// <summary>One Adam step on the gathered batch: per item, forward, backward and update of its rows.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Step(int columns)
        {
            For(_items.Length, (long)_m * _k * columns >= ParallelWork, index =>
            {
                var (g, first, end) = _items[index];
                ForwardTiles(_soft, g, first, end, columns, train: true);
                BackwardTiles(g, first, end, columns);
                for (int tile = first; tile < end; tile++)
                    for (int o = _tileRow[tile]; o < _tileRow[tile] + _tileRows[tile]; o++)
                        Update(o, 0, _kp);
            });
        }

        private void Forward(float[] weights, int columns, bool train)
        {
            For(_items.Length, (long)_m * _k * columns >= ParallelWork, index =>
            {
                var (g, first, end) = _items[index];
                ForwardTiles(weights, g, first, end, columns, train);
            });
        }

        /// <summary>
        /// Z = W̃ X + b for tiles [first, end) of group g. K is walked in blocks so a block of X stays in L1 while
        /// every tile passes over it; partial sums wait in _dz between blocks.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void ForwardTiles(float[] weights, int g, int first, int end, int columns, bool train)
        {
            int ld = Ld(columns), block = 4 * _width;
            ref float x = ref _x[g * _k * ld];
            for (int c0 = 0; c0 < columns; c0 += block)
                for (int k0 = 0; k0 < _k; k0 += KBlock)
                {
                    int k1 = Math.Min(_k, k0 + KBlock);
                    for (int tile = first; tile < end; tile++)
                    {
                        int o = _tileRow[tile];
                        if (_tileRows[tile] == RowTile)
                        {
                            Forward4x2(weights, o, ref x, ld, c0, k0, k1, train);
                            Forward4x2(weights, o, ref x, ld, c0 + 2 * _width, k0, k1, train);
                        }
                        else
                        {
                            Forward1x4(weights, o, ref x, ld, c0, k0, k1, train);
                        }
                    }
                }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Forward4x2(float[] weights, int o, ref float x, int ld, int c, int k0, int k1, bool train)
        {
            ref float w0 = ref weights[o * _kp];
            ref float w1 = ref Unsafe.Add(ref w0, _kp);
            ref float w2 = ref Unsafe.Add(ref w1, _kp);
            ref float w3 = ref Unsafe.Add(ref w2, _kp);
            nuint w = (nuint)_width, at = (nuint)(o * ld + c), row = (nuint)ld;
            ref float z = ref _dz[0];
            TV a00, a01, a10, a11, a20, a21, a30, a31;
            if (k0 == 0)
            {
                a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = TS.Zero;
            }
            else
            {
                a00 = TS.Load(ref z, at); a01 = TS.Load(ref z, at + w);
                a10 = TS.Load(ref z, at + row); a11 = TS.Load(ref z, at + row + w);
                a20 = TS.Load(ref z, at + 2 * row); a21 = TS.Load(ref z, at + 2 * row + w);
                a30 = TS.Load(ref z, at + 3 * row); a31 = TS.Load(ref z, at + 3 * row + w);
            }
            for (int i = k0; i < k1; i++)
            {
                ref float xi = ref Unsafe.Add(ref x, i * ld + c);
                TV y0 = TS.Load(ref xi, 0), y1 = TS.Load(ref xi, w);
                TV s = TS.Splat(Unsafe.Add(ref w0, i));
                a00 = TS.MultiplyAdd(s, y0, a00); a01 = TS.MultiplyAdd(s, y1, a01);
                s = TS.Splat(Unsafe.Add(ref w1, i));
                a10 = TS.MultiplyAdd(s, y0, a10); a11 = TS.MultiplyAdd(s, y1, a11);
                s = TS.Splat(Unsafe.Add(ref w2, i));
                a20 = TS.MultiplyAdd(s, y0, a20); a21 = TS.MultiplyAdd(s, y1, a21);
                s = TS.Splat(Unsafe.Add(ref w3, i));
                a30 = TS.MultiplyAdd(s, y0, a30); a31 = TS.MultiplyAdd(s, y1, a31);
            }
            bool last = k1 == _k;
            Finish(o, at, a00, last, train); Finish(o, at + w, a01, last, train);
            Finish(o + 1, at + row, a10, last, train); Finish(o + 1, at + row + w, a11, last, train);
            Finish(o + 2, at + 2 * row, a20, last, train); Finish(o + 2, at + 2 * row + w, a21, last, train);
            Finish(o + 3, at + 3 * row, a30, last, train); Finish(o + 3, at + 3 * row + w, a31, last, train);
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Forward1x4(float[] weights, int o, ref float x, int ld, int c, int k0, int k1, bool train)
        {
            ref float w0 = ref weights[o * _kp];
            nuint w = (nuint)_width, at = (nuint)(o * ld + c);
            ref float z = ref _dz[0];
            TV a0, a1, a2, a3;
            if (k0 == 0)
            {
                a0 = a1 = a2 = a3 = TS.Zero;
            }
            else
            {
                a0 = TS.Load(ref z, at); a1 = TS.Load(ref z, at + w); a2 = TS.Load(ref z, at + 2 * w); a3 = TS.Load(ref z, at + 3 * w);
            }
            for (int i = k0; i < k1; i++)
            {
                ref float xi = ref Unsafe.Add(ref x, i * ld + c);
                TV s = TS.Splat(Unsafe.Add(ref w0, i));
                a0 = TS.MultiplyAdd(s, TS.Load(ref xi, 0), a0);
                a1 = TS.MultiplyAdd(s, TS.Load(ref xi, w), a1);
                a2 = TS.MultiplyAdd(s, TS.Load(ref xi, 2 * w), a2);
                a3 = TS.MultiplyAdd(s, TS.Load(ref xi, 3 * w), a3);
            }
            bool last = k1 == _k;
            Finish(o, at, a0, last, train); Finish(o, at + w, a1, last, train);
            Finish(o, at + 2 * w, a2, last, train); Finish(o, at + 3 * w, a3, last, train);
        }

        /// <summary>
        /// Stores a partial sum, or at the last K block z = acc + b; training stores instead
        /// dL/dz = coefficient·(f(z) − target)·f′(z), zero where the clamp holds f.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Finish(int o, nuint at, TV acc, bool last, bool train)
        {
            if (!last)
            {
                TS.Store(acc, ref _dz[0], at);
                return;
            }
            TV z = TS.Add(acc, TS.Splat(_bias[o]));
            if (!train)
            {
                TS.Store(z, ref _dz[0], at);
                return;
            }
            TV a = z, slope = TS.Splat(_coefficient[o]);
            if (_leaky)
            {
                TV negative = TS.LessThan(z, TS.Zero);
                a = TS.Select(negative, TS.Multiply(z, TS.Splat(_alpha)), z);
                slope = TS.Select(negative, TS.Splat(_coefficient[o] * _alpha), slope);
            }
            TV low = TS.Splat(_clampMin[o]), high = TS.Splat(_clampMax[o]);
            TV inside = TS.And(TS.LessThanOrEqual(low, a), TS.LessThanOrEqual(a, high));
            a = TS.Min(TS.Max(a, low), high);
            TV gradient = TS.Multiply(TS.Subtract(a, TS.Load(ref _t[0], at)), slope);
            TS.Store(TS.Select(inside, gradient, TS.Zero), ref _dz[0], at);
        }

        // ---- Backward: G = dZ Xᵀ, then the Adam step and new soft weights for the same weights ----

        /// <summary>
        /// dL/dW̃ of tiles [first, end) of group g. Groups with at least one full tile use the row-major batch:
        /// G[o, k..k+2W) accumulates dL/dz[o, b]·X[b, k..k+2W) over b in registers, with no horizontal sums.
        /// Groups of fewer rows (depthwise) take dot products along the transposed batch instead.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void BackwardTiles(int g, int first, int end, int columns)
        {
            int ld = Ld(columns);
            if (!_rowLayout)
            {
                ref float x = ref _x[g * _k * ld];
                for (int tile = first; tile < end; tile++)
                    for (int i = 0; i < _k; i += 4) Backward1x4(_tileRow[tile], ref x, ld, columns, i, _k);
                return;
            }
            ref float xr = ref _xr[g * _columns * _ldr];
            for (int c = 0; c < _kp; c += 2 * _width)
            {
                int c2 = Math.Min(c + _width, _kp - _width);
                for (int tile = first; tile < end; tile++)
                {
                    int o = _tileRow[tile];
                    if (TS.Count >= 16 && tile + 1 < end && _tileRows[tile] == RowTile && _tileRows[tile + 1] == RowTile)
                    {
                        // Two tiles at once where there are 32 vector registers: half the traffic for X.
                        RowBackward8(o, ref xr, ld, c, c2);
                        tile++;
                    }
                    else if (_tileRows[tile] == RowTile)
                    {
                        RowBackward4(o, ref xr, ld, c, c2);
                    }
                    else
                    {
                        RowBackward1(o, ref xr, ld, c, c2);
                    }
                }
            }
        }

        /// <summary>dL/dW̃ of rows o..o+7 at the weight vectors starting at columns c and c2 (c2 == c: just one).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RowBackward8(int o, ref float xr, int ld, int c, int c2)
        {
            ref float d = ref _dz[o * ld];
            nuint v0 = (nuint)c, v1 = (nuint)c2;
            TV a00 = TS.Zero, a01 = TS.Zero, a10 = TS.Zero, a11 = TS.Zero, a20 = TS.Zero, a21 = TS.Zero, a30 = TS.Zero, a31 = TS.Zero;
            TV a40 = TS.Zero, a41 = TS.Zero, a50 = TS.Zero, a51 = TS.Zero, a60 = TS.Zero, a61 = TS.Zero, a70 = TS.Zero, a71 = TS.Zero;
            for (int b = 0; b < _batch; b++)
            {
                ref float row = ref Unsafe.Add(ref xr, b * _ldr);
                ref float e = ref Unsafe.Add(ref d, b);
                TV y0 = TS.Load(ref row, v0), y1 = TS.Load(ref row, v1);
                TV s = TS.Splat(e);
                a00 = TS.MultiplyAdd(s, y0, a00); a01 = TS.MultiplyAdd(s, y1, a01);
                s = TS.Splat(Unsafe.Add(ref e, ld));
                a10 = TS.MultiplyAdd(s, y0, a10); a11 = TS.MultiplyAdd(s, y1, a11);
                s = TS.Splat(Unsafe.Add(ref e, 2 * ld));
                a20 = TS.MultiplyAdd(s, y0, a20); a21 = TS.MultiplyAdd(s, y1, a21);
                s = TS.Splat(Unsafe.Add(ref e, 3 * ld));
                a30 = TS.MultiplyAdd(s, y0, a30); a31 = TS.MultiplyAdd(s, y1, a31);
                s = TS.Splat(Unsafe.Add(ref e, 4 * ld));
                a40 = TS.MultiplyAdd(s, y0, a40); a41 = TS.MultiplyAdd(s, y1, a41);
                s = TS.Splat(Unsafe.Add(ref e, 5 * ld));
                a50 = TS.MultiplyAdd(s, y0, a50); a51 = TS.MultiplyAdd(s, y1, a51);
                s = TS.Splat(Unsafe.Add(ref e, 6 * ld));
                a60 = TS.MultiplyAdd(s, y0, a60); a61 = TS.MultiplyAdd(s, y1, a61);
                s = TS.Splat(Unsafe.Add(ref e, 7 * ld));
                a70 = TS.MultiplyAdd(s, y0, a70); a71 = TS.MultiplyAdd(s, y1, a71);
            }
            StoreGradient(o, c, c2, a00, a01); StoreGradient(o + 1, c, c2, a10, a11);
            StoreGradient(o + 2, c, c2, a20, a21); StoreGradient(o + 3, c, c2, a30, a31);
            StoreGradient(o + 4, c, c2, a40, a41); StoreGradient(o + 5, c, c2, a50, a51);
            StoreGradient(o + 6, c, c2, a60, a61); StoreGradient(o + 7, c, c2, a70, a71);
        }

        /// <summary>dL/dW̃ of rows o..o+3 at the weight vectors starting at columns c and c2 (c2 == c: just one).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RowBackward4(int o, ref float xr, int ld, int c, int c2)
        {
            ref float d = ref _dz[o * ld];
            nuint v0 = (nuint)c, v1 = (nuint)c2;
            TV a00 = TS.Zero, a01 = TS.Zero, a10 = TS.Zero, a11 = TS.Zero, a20 = TS.Zero, a21 = TS.Zero, a30 = TS.Zero, a31 = TS.Zero;
            for (int b = 0; b < _batch; b++)
            {
                ref float row = ref Unsafe.Add(ref xr, b * _ldr);
                ref float e = ref Unsafe.Add(ref d, b);
                TV y0 = TS.Load(ref row, v0), y1 = TS.Load(ref row, v1);
                TV s = TS.Splat(e);
                a00 = TS.MultiplyAdd(s, y0, a00); a01 = TS.MultiplyAdd(s, y1, a01);
                s = TS.Splat(Unsafe.Add(ref e, ld));
                a10 = TS.MultiplyAdd(s, y0, a10); a11 = TS.MultiplyAdd(s, y1, a11);
                s = TS.Splat(Unsafe.Add(ref e, 2 * ld));
                a20 = TS.MultiplyAdd(s, y0, a20); a21 = TS.MultiplyAdd(s, y1, a21);
                s = TS.Splat(Unsafe.Add(ref e, 3 * ld));
                a30 = TS.MultiplyAdd(s, y0, a30); a31 = TS.MultiplyAdd(s, y1, a31);
            }
            StoreGradient(o, c, c2, a00, a01); StoreGradient(o + 1, c, c2, a10, a11);
            StoreGradient(o + 2, c, c2, a20, a21); StoreGradient(o + 3, c, c2, a30, a31);
        }

        /// <summary>dL/dW̃ of row o at the weight vectors starting at columns c and c2 (c2 == c: just one).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RowBackward1(int o, ref float xr, int ld, int c, int c2)
        {
            ref float d = ref _dz[o * ld];
            nuint v0 = (nuint)c, v1 = (nuint)c2;
            TV a0 = TS.Zero, a1 = TS.Zero;
            for (int b = 0; b < _batch; b++)
            {
                ref float row = ref Unsafe.Add(ref xr, b * _ldr);
                TV s = TS.Splat(Unsafe.Add(ref d, b));
                a0 = TS.MultiplyAdd(s, TS.Load(ref row, v0), a0);
                a1 = TS.MultiplyAdd(s, TS.Load(ref row, v1), a1);
            }
            StoreGradient(o, c, c2, a0, a1);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void StoreGradient(int o, int c, int c2, TV first, TV second)
        {
            TS.Store(first, ref _grad[0], (nuint)(o * _kp + c));
            if (c2 != c) TS.Store(second, ref _grad[0], (nuint)(o * _kp + c2));
        }

        /// <summary>dL/dW̃ of row o at weight columns i..min(i + 4, end); two accumulators per column for latency.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Backward1x4(int o, ref float x, int ld, int columns, int i, int end)
        {
            ref float d = ref _dz[o * ld];
            ref float x0 = ref Unsafe.Add(ref x, i * ld);
            ref float x1 = ref Unsafe.Add(ref x, Math.Min(i + 1, end - 1) * ld);
            ref float x2 = ref Unsafe.Add(ref x, Math.Min(i + 2, end - 1) * ld);
            ref float x3 = ref Unsafe.Add(ref x, Math.Min(i + 3, end - 1) * ld);
            TV p0 = TS.Zero, p1 = TS.Zero, p2 = TS.Zero, p3 = TS.Zero, q0 = TS.Zero, q1 = TS.Zero, q2 = TS.Zero, q3 = TS.Zero;
            nuint w = (nuint)_width;
            for (nuint b = 0; b < (nuint)columns; b += 2 * w)
            {
                TV e = TS.Load(ref d, b), f = TS.Load(ref d, b + w);
                p0 = TS.MultiplyAdd(e, TS.Load(ref x0, b), p0); q0 = TS.MultiplyAdd(f, TS.Load(ref x0, b + w), q0);
                p1 = TS.MultiplyAdd(e, TS.Load(ref x1, b), p1); q1 = TS.MultiplyAdd(f, TS.Load(ref x1, b + w), q1);
                p2 = TS.MultiplyAdd(e, TS.Load(ref x2, b), p2); q2 = TS.MultiplyAdd(f, TS.Load(ref x2, b + w), q2);
                p3 = TS.MultiplyAdd(e, TS.Load(ref x3, b), p3); q3 = TS.MultiplyAdd(f, TS.Load(ref x3, b + w), q3);
            }
            int at = o * _kp + i, n = Math.Min(4, end - i);
            _grad[at] = TS.Sum(TS.Add(p0, q0));
            if (n > 1) _grad[at + 1] = TS.Sum(TS.Add(p1, q1));
            if (n > 2) _grad[at + 2] = TS.Sum(TS.Add(p2, q2));
            if (n > 3) _grad[at + 3] = TS.Sum(TS.Add(p3, q3));
        }

        /// <summary>
        /// Adam step on V[o, k0..k1) from dL/dW̃ (in _grad) and the regulariser, then h and W̃ for the next step.
        /// Padding columns (k ≥ K) keep a zero gradient and are never read by the products.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Update(int o, int k0, int k1)
        {
            TV scale = TS.Splat(_scale[o]), level = TS.Splat(_level), negativeLevel = TS.Splat(-_level);
            TV one = TS.Splat(1), zero = TS.Zero;
            TV betaMinusOne = TS.Splat(_beta - 1), regularizerSlope = TS.Splat(-2 * _beta * _lambda / _m);
            TV step = TS.Splat(_step), correction2 = TS.Splat(_correction2), epsilon = TS.Splat(1e-8f), tiny = TS.Splat(1e-30f);
            TV beta1 = TS.Splat(0.9f), oneMinusBeta1 = TS.Splat(0.1f), beta2 = TS.Splat(0.999f), oneMinusBeta2 = TS.Splat(0.001f);
            TV range = TS.Splat(Zeta - Gamma), gamma = TS.Splat(Gamma), zeta = TS.Splat(Zeta), inverseRange = TS.Splat(1 / (Zeta - Gamma));
            TV limit = TS.Splat(30);
            bool regularize = _lambda > 0;
            for (int k = k0; k < k1; k += _width)
            {
                nuint j = (nuint)(o * _kp + k);
                // h′(V) = σ(1 − σ)(ζ − γ) = (h − γ)(ζ − h)/(ζ − γ) where 0 < h < 1, else 0 (one array less to stream).
                TV floor = TS.Load(ref _floor[0], j), h = TS.Load(ref _h[0], j);
                TV dh = TS.Select(TS.And(TS.LessThan(zero, h), TS.LessThan(h, one)), TS.Multiply(TS.Multiply(TS.Subtract(h, gamma), TS.Subtract(zeta, h)), inverseRange), zero);
                TV q = TS.Add(floor, h);
                TV onGrid = TS.And(TS.LessThanOrEqual(negativeLevel, q), TS.LessThanOrEqual(q, level));
                TV gradient = TS.Select(onGrid, TS.Multiply(TS.Multiply(TS.Load(ref _grad[0], j), scale), dh), zero);
                if (regularize && !TS.AllZero(dh))
                {
                    // λ/M · d/dh [1 − |2h − 1|^β] = −2βλ/M · sign(2h − 1)·|2h − 1|^(β−1)
                    // Powers below e^−69 ≈ 1e-30 (and |2h − 1| = 0, whose Log is about −88) count as zero: no subnormals.
                    TV u = TS.Subtract(TS.Add(h, h), one), exponent = TS.Multiply(betaMinusOne, Log(TS.Abs(u)));
                    TV power = TS.Select(TS.LessThan(exponent, TS.Splat(-69)), zero, Exp(exponent));
                    TV slope = TS.Multiply(regularizerSlope, TS.Select(TS.LessThan(u, zero), TS.Subtract(zero, power), power));
                    gradient = TS.MultiplyAdd(slope, dh, gradient);
                }
                TV m = TS.MultiplyAdd(beta1, TS.Load(ref _mean[0], j), TS.Multiply(oneMinusBeta1, gradient));
                TV v = TS.MultiplyAdd(beta2, TS.Load(ref _variance[0], j), TS.Multiply(oneMinusBeta2, TS.Multiply(gradient, gradient)));
                // A saturated weight's gradient is zero and its moments decay geometrically: flush them to zero
                // before they become subnormal (subnormal arithmetic is up to a hundred times slower on x86).
                m = TS.Select(TS.LessThan(TS.Abs(m), tiny), zero, m);
                v = TS.Select(TS.LessThan(v, tiny), zero, v);
                TV parameter = TS.Subtract(TS.Load(ref _v[0], j), TS.Divide(TS.Multiply(step, m), TS.Add(TS.Multiply(TS.Sqrt(v), correction2), epsilon)));
                TS.Store(m, ref _mean[0], j);
                TS.Store(v, ref _variance[0], j);
                TS.Store(parameter, ref _v[0], j);

                // σ(V) with V limited to ±30: h is 0 or 1 there either way, and σ stays a normal float.
                TV sigma = TS.Divide(one, TS.Add(one, Exp(TS.Max(TS.Min(TS.Subtract(zero, parameter), limit), TS.Subtract(zero, limit)))));
                TV raw = TS.MultiplyAdd(sigma, range, gamma);
                h = TS.Min(TS.Max(raw, zero), one);
                TS.Store(h, ref _h[0], j);
                TS.Store(TS.Multiply(scale, TS.Min(TS.Max(TS.Add(floor, h), negativeLevel), level)), ref _soft[0], j);
            }
        }

        /// <summary>
        /// e^a, a clamped to [−87.3, 88.3] (Cephes' expf: relative error about 1e-7). The runtime's vector Exp falls
        /// back to scalar code for large |a|, which saturated weights (large |V|) hit all the time.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TV Exp(TV a)
        {
            a = TS.Min(TS.Max(a, TS.Splat(-87.3f)), TS.Splat(88.3f));
            TV n = TS.Round(TS.Multiply(a, TS.Splat(1.44269504088896341f)));
            TV r = TS.MultiplyAdd(n, TS.Splat(-0.693359375f), a);
            r = TS.MultiplyAdd(n, TS.Splat(2.12194440e-4f), r);
            TV p = TS.Splat(1.9875691500E-4f);
            p = TS.MultiplyAdd(p, r, TS.Splat(1.3981999507E-3f));
            p = TS.MultiplyAdd(p, r, TS.Splat(8.3334519073E-3f));
            p = TS.MultiplyAdd(p, r, TS.Splat(4.1665795894E-2f));
            p = TS.MultiplyAdd(p, r, TS.Splat(1.6666665459E-1f));
            p = TS.MultiplyAdd(p, r, TS.Splat(5.0000001201E-1f));
            p = TS.Add(TS.MultiplyAdd(TS.Multiply(p, r), r, r), TS.Splat(1));
            return TS.Multiply(p, TS.PowerOfTwo(n));
        }

        /// <summary>
        /// Natural log of positive normal floats (Cephes' logf polynomial, relative error about 1e-7): the runtime's
        /// vector Log is several times slower than its Exp, and the regulariser needs one per weight and step.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static TV Log(TV a)
        {
            TV one = TS.Splat(1), e = TS.Exponent(a), m = TS.Mantissa(a);
            TV large = TS.LessThan(TS.Splat(1.41421356f), m);
            m = TS.Select(large, TS.Multiply(m, TS.Splat(0.5f)), m);
            e = TS.Select(large, TS.Add(e, one), e);
            TV x = TS.Subtract(m, one), z = TS.Multiply(x, x);
            TV p = TS.Splat(7.0376836292E-2f);
            p = TS.MultiplyAdd(p, x, TS.Splat(-1.1514610310E-1f));
            p = TS.MultiplyAdd(p, x, TS.Splat(1.1676998740E-1f));
            p = TS.MultiplyAdd(p, x, TS.Splat(-1.2420140846E-1f));
            p = TS.MultiplyAdd(p, x, TS.Splat(1.4249322787E-1f));
            p = TS.MultiplyAdd(p, x, TS.Splat(-1.6668057665E-1f));
            p = TS.MultiplyAdd(p, x, TS.Splat(2.0000714765E-1f));
            p = TS.MultiplyAdd(p, x, TS.Splat(-2.4999993993E-1f));
            p = TS.MultiplyAdd(p, x, TS.Splat(3.3333331174E-1f));
            TV y = TS.Multiply(TS.Multiply(x, z), p);
            y = TS.MultiplyAdd(e, TS.Splat(-2.12194440e-4f), y);
            y = TS.MultiplyAdd(z, TS.Splat(-0.5f), y);
            return TS.MultiplyAdd(e, TS.Splat(0.693359375f), TS.Add(x, y));
        }

        /// <summary>Runs body(0..count) on the thread pool when the work is large enough, else inline.</summary>
        private void For(int count, bool parallel, Action<int> body)
        {
            if (parallel && _settings.MaxDegreeOfParallelism != 1 && count > 1)
                Parallel.For(0, count, _parallel, body);
            else
                for (int i = 0; i < count; i++) body(i);
        }
    }

    /// <summary>The vector operations the kernels use, one implementation per width (JIT-specialised, inlined).</summary>
    private interface ISimd<TV> where TV : struct
    {
        static abstract int Count { get; }
        static abstract TV Zero { get; }
        static abstract TV Splat(float value);
        static abstract TV Load(ref float source, nuint offset);
        static abstract void Store(TV value, ref float destination, nuint offset);
        static abstract TV Add(TV a, TV b);
        static abstract TV Subtract(TV a, TV b);
        static abstract TV Multiply(TV a, TV b);
        static abstract TV Divide(TV a, TV b);
        /// <summary>a·b + c, fused where the hardware has FMA.</summary>
        static abstract TV MultiplyAdd(TV a, TV b, TV c);
        static abstract TV Min(TV a, TV b);
        static abstract TV Max(TV a, TV b);
        static abstract TV Abs(TV a);
        static abstract TV Sqrt(TV a);
        /// <summary>Round to nearest, ties to even.</summary>
        static abstract TV Round(TV a);
        /// <summary>2^n for integral n in [−126, 127].</summary>
        static abstract TV PowerOfTwo(TV n);
        /// <summary>For positive finite a = m·2^e with m in [1, 2): e as a float.</summary>
        static abstract TV Exponent(TV a);
        /// <summary>For positive finite a = m·2^e with m in [1, 2): m.</summary>
        static abstract TV Mantissa(TV a);
        static abstract bool AllZero(TV a);
        static abstract TV LessThan(TV a, TV b);
        static abstract TV LessThanOrEqual(TV a, TV b);
        static abstract TV And(TV a, TV b);
        static abstract TV Select(TV mask, TV ifTrue, TV ifFalse);
        /// <summary>Horizontal sum in a fixed order.</summary>
        static abstract float Sum(TV a);
    }

    private readonly struct Simd512 : ISimd<Vector512<float>>
    {
        public static int Count => Vector512<float>.Count;
        public static Vector512<float> Zero => Vector512<float>.Zero;
        public static Vector512<float> Splat(float value) => Vector512.Create(value);
        public static Vector512<float> Load(ref float source, nuint offset) => Vector512.LoadUnsafe(ref source, offset);
        public static void Store(Vector512<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
        public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
        public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
        public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
        public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;
        public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.MultiplyAddEstimate(a, b, c);
        public static Vector512<float> Min(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);
        public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
        public static Vector512<float> Abs(Vector512<float> a) => Vector512.Abs(a);
        public static Vector512<float> Sqrt(Vector512<float> a) => Vector512.Sqrt(a);
        public static Vector512<float> Round(Vector512<float> a) => Vector512.Round(a);
        public static Vector512<float> PowerOfTwo(Vector512<float> n) => Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        public static Vector512<float> Exponent(Vector512<float> a) => Vector512.ConvertToSingle(Vector512.ShiftRightLogical(a.AsInt32(), 23) - Vector512.Create(127));
        public static Vector512<float> Mantissa(Vector512<float> a) => ((a.AsInt32() & Vector512.Create(0x007FFFFF)) | Vector512.Create(0x3F800000)).AsSingle();
        public static bool AllZero(Vector512<float> a) => Vector512.EqualsAll(a, Vector512<float>.Zero);
        public static Vector512<float> LessThan(Vector512<float> a, Vector512<float> b) => Vector512.LessThan(a, b);
        public static Vector512<float> LessThanOrEqual(Vector512<float> a, Vector512<float> b) => Vector512.LessThanOrEqual(a, b);
        public static Vector512<float> And(Vector512<float> a, Vector512<float> b) => a & b;
        public static Vector512<float> Select(Vector512<float> mask, Vector512<float> ifTrue, Vector512<float> ifFalse) => Vector512.ConditionalSelect(mask, ifTrue, ifFalse);
        public static float Sum(Vector512<float> a) => Vector512.Sum(a);
    }

    private readonly struct Simd256 : ISimd<Vector256<float>>
    {
        public static int Count => Vector256<float>.Count;
        public static Vector256<float> Zero => Vector256<float>.Zero;
        public static Vector256<float> Splat(float value) => Vector256.Create(value);
        public static Vector256<float> Load(ref float source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);
        public static void Store(Vector256<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
        public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
        public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
        public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
        public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;
        public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Vector256.MultiplyAddEstimate(a, b, c);
        public static Vector256<float> Min(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);
        public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
        public static Vector256<float> Abs(Vector256<float> a) => Vector256.Abs(a);
        public static Vector256<float> Sqrt(Vector256<float> a) => Vector256.Sqrt(a);
        public static Vector256<float> Round(Vector256<float> a) => Vector256.Round(a);
        public static Vector256<float> PowerOfTwo(Vector256<float> n) => Vector256.ShiftLeft(Vector256.ConvertToInt32(n) + Vector256.Create(127), 23).AsSingle();
        public static Vector256<float> Exponent(Vector256<float> a) => Vector256.ConvertToSingle(Vector256.ShiftRightLogical(a.AsInt32(), 23) - Vector256.Create(127));
        public static Vector256<float> Mantissa(Vector256<float> a) => ((a.AsInt32() & Vector256.Create(0x007FFFFF)) | Vector256.Create(0x3F800000)).AsSingle();
        public static bool AllZero(Vector256<float> a) => Vector256.EqualsAll(a, Vector256<float>.Zero);
        public static Vector256<float> LessThan(Vector256<float> a, Vector256<float> b) => Vector256.LessThan(a, b);
        public static Vector256<float> LessThanOrEqual(Vector256<float> a, Vector256<float> b) => Vector256.LessThanOrEqual(a, b);
        public static Vector256<float> And(Vector256<float> a, Vector256<float> b) => a & b;
        public static Vector256<float> Select(Vector256<float> mask, Vector256<float> ifTrue, Vector256<float> ifFalse) => Vector256.ConditionalSelect(mask, ifTrue, ifFalse);
        public static float Sum(Vector256<float> a) => Vector256.Sum(a);
    }

    private readonly struct Simd128 : ISimd<Vector128<float>>
    {
        public static int Count => Vector128<float>.Count;
        public static Vector128<float> Zero => Vector128<float>.Zero;
        public static Vector128<float> Splat(float value) => Vector128.Create(value);
        public static Vector128<float> Load(ref float source, nuint offset) => Vector128.LoadUnsafe(ref source, offset);
        public static void Store(Vector128<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
        public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
        public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;
        public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
        public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;
        public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Vector128.MultiplyAddEstimate(a, b, c);
        public static Vector128<float> Min(Vector128<float> a, Vector128<float> b) => Vector128.Min(a, b);
        public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
        public static Vector128<float> Abs(Vector128<float> a) => Vector128.Abs(a);
        public static Vector128<float> Sqrt(Vector128<float> a) => Vector128.Sqrt(a);
        public static Vector128<float> Round(Vector128<float> a) => Vector128.Round(a);
        public static Vector128<float> PowerOfTwo(Vector128<float> n) => Vector128.ShiftLeft(Vector128.ConvertToInt32(n) + Vector128.Create(127), 23).AsSingle();
        public static Vector128<float> Exponent(Vector128<float> a) => Vector128.ConvertToSingle(Vector128.ShiftRightLogical(a.AsInt32(), 23) - Vector128.Create(127));
        public static Vector128<float> Mantissa(Vector128<float> a) => ((a.AsInt32() & Vector128.Create(0x007FFFFF)) | Vector128.Create(0x3F800000)).AsSingle();
        public static bool AllZero(Vector128<float> a) => Vector128.EqualsAll(a, Vector128<float>.Zero);
        public static Vector128<float> LessThan(Vector128<float> a, Vector128<float> b) => Vector128.LessThan(a, b);
        public static Vector128<float> LessThanOrEqual(Vector128<float> a, Vector128<float> b) => Vector128.LessThanOrEqual(a, b);
        public static Vector128<float> And(Vector128<float> a, Vector128<float> b) => a & b;
        public static Vector128<float> Select(Vector128<float> mask, Vector128<float> ifTrue, Vector128<float> ifFalse) => Vector128.ConditionalSelect(mask, ifTrue, ifFalse);
        public static float Sum(Vector128<float> a) => Vector128.Sum(a);
    }
}
